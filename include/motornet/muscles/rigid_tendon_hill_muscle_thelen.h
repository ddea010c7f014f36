#pragma once
// RigidTendonHillMuscleThelen (SPEC §5.3): Thelen's (2003) force-length and force-velocity curves with a
// rigid tendon. Same state names as RigidTendonHillMuscle.

#include "motornet/muscle.h"

namespace motornet {

class RigidTendonHillMuscleThelenImpl : public MuscleImpl {
 public:
  explicit RigidTendonHillMuscleThelenImpl(MuscleParameters shared_parameters = {}, std::string config_path = "")
      : MuscleImpl(std::move(shared_parameters), std::move(config_path)) {}

  std::string type_name() const override { return "RigidTendonHillMuscleThelen"; }
  std::vector<std::string> state_names() const override;
  std::vector<MuscleParameterSpec> parameter_specs() const override;

  torch::Tensor ode(const torch::Tensor& excitation, const torch::Tensor& muscle_state) const override;
  torch::Tensor integrate(double h, const torch::Tensor& derivative, const torch::Tensor& muscle_state,
                          const torch::Tensor& geometry_state) const override;

  torch::Tensor proprioceptive_length_scale() const override;
  torch::Tensor proprioceptive_velocity_scale() const override;
  std::shared_ptr<const fused::MuscleKernel> fused_kernel() const override;

 protected:
  void on_build() override;

 private:
  torch::Tensor max_isometric_force_, tendon_length_, optimal_muscle_length_;
  torch::Tensor slack_length_, max_velocity_;
};
TORCH_MODULE(RigidTendonHillMuscleThelen);

}  // namespace motornet
