#pragma once
// ReluMuscle (SPEC §5.1): force is activation times the maximal isometric force, with no length or
// velocity dependence. States: activation, muscle length, muscle velocity, force.

#include "motornet/muscle.h"

namespace motornet {

class ReluMuscleImpl : public MuscleImpl {
 public:
  explicit ReluMuscleImpl(MuscleParameters shared_parameters = {}, std::string config_path = "")
      : MuscleImpl(std::move(shared_parameters), std::move(config_path)) {}

  std::string type_name() const override { return "ReluMuscle"; }
  std::vector<std::string> state_names() const override;
  std::vector<MuscleParameterSpec> parameter_specs() const override;

  torch::Tensor ode(const torch::Tensor& excitation, const torch::Tensor& muscle_state) const override;
  torch::Tensor integrate(double h, const torch::Tensor& derivative, const torch::Tensor& muscle_state,
                          const torch::Tensor& geometry_state) const override;
  // The initial force is 0 (SPEC §5.1), whatever the minimal activation.
  torch::Tensor initial_state(const torch::Tensor& geometry_state) const override;
  torch::Tensor proprioceptive_length_scale() const override;
  torch::Tensor proprioceptive_velocity_scale() const override;
  std::shared_ptr<const fused::MuscleKernel> fused_kernel() const override;

 protected:
  void on_build() override;

 private:
  torch::Tensor max_isometric_force_;
};
TORCH_MODULE(ReluMuscle);

}  // namespace motornet
