#pragma once
// CompliantTendonHillMuscle (SPEC §5.5): Kistemaker et al. (2010) with a compliant tendon. The fibre length
// is a state integrated from the normalised fibre velocity that balances tendon and fibre forces. States:
// activation, muscle length, muscle velocity, force-length PE, force-length SE, active force, force.

#include "motornet/muscle.h"

namespace motornet {

class CompliantTendonHillMuscleImpl : public MuscleImpl {
 public:
  explicit CompliantTendonHillMuscleImpl(MuscleParameters shared_parameters = {}, std::string config_path = "")
      : MuscleImpl(std::move(shared_parameters), std::move(config_path)) {}

  std::string type_name() const override { return "CompliantTendonHillMuscle"; }
  std::vector<std::string> state_names() const override;
  std::vector<MuscleParameterSpec> parameter_specs() const override;
  int64_t n_derivatives() const override { return 2; }
  torch::Tensor ode(const torch::Tensor& excitation, const torch::Tensor& muscle_state) const override;
  torch::Tensor integrate(double h, const torch::Tensor& derivative, const torch::Tensor& muscle_state,
                          const torch::Tensor& geometry_state) const override;
  // The fibre length that balances tendon and passive forces, then one integration step (SPEC §5.5).
  torch::Tensor initial_state(const torch::Tensor& geometry_state) const override;
  torch::Tensor proprioceptive_length_scale() const override;
  torch::Tensor proprioceptive_velocity_scale() const override;
  std::shared_ptr<const fused::MuscleKernel> fused_kernel() const override;

 protected:
  void on_build() override;

 private:
  // Normalised fibre velocity for normalised length, activation and normalised active force (SPEC §5.5).
  torch::Tensor normalized_velocity(const torch::Tensor& normalized_length, const torch::Tensor& activation,
                                    const torch::Tensor& active_force) const;
  torch::Tensor max_isometric_force_, tendon_length_, optimal_muscle_length_;
  torch::Tensor slack_length_, passive_stiffness_, max_velocity_;
};
TORCH_MODULE(CompliantTendonHillMuscle);

}  // namespace motornet
