#include "motornet/muscles/rigid_tendon_hill_muscle.h"

#include <typeinfo>

#include "../fused/builtin_kernels.h"
#include "../fused/tensor_values.h"
#include "kistemaker_curves.h"
#include "motornet/error.h"

namespace motornet {

namespace k = kistemaker;

std::vector<std::string> RigidTendonHillMuscleImpl::state_names() const {
  return {"activation",       "muscle length",     "muscle velocity", "force-length PE",
          "force-length CE", "force-velocity CE", "force"};
}

std::vector<MuscleParameterSpec> RigidTendonHillMuscleImpl::parameter_specs() const {
  using Range = MuscleParameterSpec::Range;
  auto specs = activation_parameter_specs(/*min_activation=*/0.001);
  specs.push_back({"max_isometric_force", std::nullopt, Range::kPositive});
  specs.push_back({"tendon_length", std::nullopt, Range::kNonNegative});
  specs.push_back({"optimal_muscle_length", std::nullopt, Range::kPositive});
  specs.push_back({"normalized_slack_muscle_length", 1.4, Range::kPositive});
  return specs;
}

void RigidTendonHillMuscleImpl::on_build() {
  max_isometric_force_ = parameter("max_isometric_force");
  tendon_length_ = parameter("tendon_length");
  optimal_muscle_length_ = parameter("optimal_muscle_length");
  auto normalized_slack = parameter("normalized_slack_muscle_length");
  require((normalized_slack != k::kPassiveCurvatureAt).all().item<bool>(), "normalized_slack_muscle_length",
          "must differ from 1.66, where the passive force-length curve diverges");
  slack_length_ = set_buffer("slack_length", normalized_slack * optimal_muscle_length_);
  passive_stiffness_ = set_buffer("passive_stiffness", k::passive_stiffness(normalized_slack));
  max_velocity_ = set_buffer("max_velocity", k::kVmaxPerOptimalLength * optimal_muscle_length_);
}

torch::Tensor RigidTendonHillMuscleImpl::ode(const torch::Tensor& excitation, const torch::Tensor& muscle_state) const {
  return activation_derivative(excitation, muscle_state.select(1, 0)).unsqueeze(1);
}

torch::Tensor RigidTendonHillMuscleImpl::integrate(double h, const torch::Tensor& derivative,
                                                   const torch::Tensor& muscle_state,
                                                   const torch::Tensor& geometry_state) const {
  // SPEC §5.2.
  auto a = integrate_activation(h, derivative, muscle_state);
  auto length = (geometry_state.select(1, 0) - tendon_length_).clamp_min(0.0);
  auto velocity = geometry_state.select(1, 1);
  auto ln = length / optimal_muscle_length_;
  auto vn = velocity / max_velocity_;

  auto flpe = k::passive_force_length(length, slack_length_, optimal_muscle_length_, passive_stiffness_);
  auto flce = k::active_force_length(ln);
  auto a_rel = k::a_rel(ln, flce);
  auto b_rel = k::b_rel(a);
  auto fa = flce * a;
  auto g = a * (flce + a_rel) / b_rel;
  auto p1 = -(fa / 2.0) / (k::kSas - 2.0 * g);
  auto p2 = (fa / 2.0) * (fa / 2.0) / (k::kSas - 2.0 * g);
  auto p3 = -1.5 * fa;
  // Each branch sees only velocities of its own sign so that the unused one cannot make NaN gradients.
  auto vs = vn.clamp_max(0.0);
  auto shortening = (vs * a * a_rel + fa * b_rel) / (b_rel - vs);
  auto vl = vn.clamp_min(0.0);
  auto lengthening = (-p1 * p3 + p1 * k::kSas * vl + p2 - p3 * vl + k::kSas * vl * vl) / (p1 + vl);
  auto fv = torch::where(vn < 0.0, shortening, lengthening).clamp_min(0.0);
  auto force = (fv + flpe) * max_isometric_force_;
  return stack_rows({a, length, velocity, flpe, flce, fv, force});
}

torch::Tensor RigidTendonHillMuscleImpl::proprioceptive_length_scale() const { return optimal_muscle_length_; }
torch::Tensor RigidTendonHillMuscleImpl::proprioceptive_velocity_scale() const { return max_velocity_; }

std::shared_ptr<const fused::MuscleKernel> RigidTendonHillMuscleImpl::fused_kernel() const {
  if (typeid(*this) != typeid(RigidTendonHillMuscleImpl)) return nullptr;
  return fused::make_rigid_tendon_hill_kernel(
      fused_activation_parameters(),
      {fused::values(max_isometric_force_), fused::values(tendon_length_), fused::values(optimal_muscle_length_),
       fused::values(slack_length_), fused::values(passive_stiffness_), fused::values(max_velocity_)});
}

}  // namespace motornet
