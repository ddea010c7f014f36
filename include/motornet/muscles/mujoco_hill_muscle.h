#pragma once
// MujocoHillMuscle (SPEC §5.4): MuJoCo's piecewise-quadratic muscle curves with a rigid tendon. Same state
// names as RigidTendonHillMuscle. Unlike the Python reference (SPEC §8.3) it follows MuJoCo exactly:
// velocity normalised by optimal length times vmax, one length bump, half-quadratic-then-linear passive curve.

#include "motornet/muscle.h"

namespace motornet {

class MujocoHillMuscleImpl : public MuscleImpl {
 public:
  explicit MujocoHillMuscleImpl(MuscleParameters shared_parameters = {}, std::string config_path = "")
      : MuscleImpl(std::move(shared_parameters), std::move(config_path)) {}

  std::string type_name() const override { return "MujocoHillMuscle"; }
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
  torch::Tensor passive_forces_, passive_max_, lmin_, lmax_, vmax_, fvmax_;
};
TORCH_MODULE(MujocoHillMuscle);

}  // namespace motornet
