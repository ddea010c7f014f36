#include "motornet/muscles/relu_muscle.h"

#include <typeinfo>

#include "../fused/builtin_kernels.h"
#include "../fused/tensor_values.h"

namespace motornet {

std::vector<std::string> ReluMuscleImpl::state_names() const {
  return {"activation", "muscle length", "muscle velocity", "force"};
}

std::vector<MuscleParameterSpec> ReluMuscleImpl::parameter_specs() const {
  auto specs = activation_parameter_specs(/*min_activation=*/0.0);
  specs.push_back({"max_isometric_force", std::nullopt, MuscleParameterSpec::Range::kPositive});
  return specs;
}

void ReluMuscleImpl::on_build() { max_isometric_force_ = parameter("max_isometric_force"); }

torch::Tensor ReluMuscleImpl::ode(const torch::Tensor& excitation, const torch::Tensor& muscle_state) const {
  return activation_derivative(excitation, muscle_state.select(1, 0)).unsqueeze(1);
}

torch::Tensor ReluMuscleImpl::integrate(double h, const torch::Tensor& derivative, const torch::Tensor& muscle_state,
                                        const torch::Tensor& geometry_state) const {
  auto activation = integrate_activation(h, derivative, muscle_state);
  return stack_rows({activation, geometry_state.select(1, 0), geometry_state.select(1, 1),
                     activation * max_isometric_force_});
}

torch::Tensor ReluMuscleImpl::initial_state(const torch::Tensor& geometry_state) const {
  auto state = MuscleImpl::initial_state(geometry_state);
  auto rows = state.unbind(1);
  rows[force_row()] = torch::zeros_like(rows[force_row()]);
  return stack_rows(rows);
}

torch::Tensor ReluMuscleImpl::proprioceptive_length_scale() const { return torch::ones_like(max_isometric_force_); }
torch::Tensor ReluMuscleImpl::proprioceptive_velocity_scale() const { return torch::ones_like(max_isometric_force_); }

std::shared_ptr<const fused::MuscleKernel> ReluMuscleImpl::fused_kernel() const {
  if (typeid(*this) != typeid(ReluMuscleImpl)) return nullptr;
  return fused::make_relu_muscle_kernel(fused_activation_parameters(), fused::values(max_isometric_force_));
}

}  // namespace motornet
