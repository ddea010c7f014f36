#include "motornet/muscles/compliant_tendon_hill_muscle.h"

#include <typeinfo>

#include "../fused/builtin_kernels.h"
#include "../fused/tensor_values.h"
#include "kistemaker_curves.h"
#include "motornet/error.h"

namespace motornet {

namespace k = kistemaker;

namespace {
constexpr double kCollapsedLength = 0.001;  // fibre length (in l_ce) when the path is shorter than the tendon
}

std::vector<std::string> CompliantTendonHillMuscleImpl::state_names() const {
  return {"activation",       "muscle length", "muscle velocity", "force-length PE",
          "force-length SE", "active force",  "force"};
}

std::vector<MuscleParameterSpec> CompliantTendonHillMuscleImpl::parameter_specs() const {
  using Range = MuscleParameterSpec::Range;
  auto specs = activation_parameter_specs(/*min_activation=*/0.01);
  specs.push_back({"max_isometric_force", std::nullopt, Range::kPositive});
  specs.push_back({"tendon_length", std::nullopt, Range::kPositive});
  specs.push_back({"optimal_muscle_length", std::nullopt, Range::kPositive});
  specs.push_back({"normalized_slack_muscle_length", 1.4, Range::kPositive});
  return specs;
}

void CompliantTendonHillMuscleImpl::on_build() {
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

torch::Tensor CompliantTendonHillMuscleImpl::normalized_velocity(const torch::Tensor& normalized_length,
                                                                 const torch::Tensor& activation,
                                                                 const torch::Tensor& active_force) const {
  // SPEC §5.5 nvel: the fibre velocity at which the contractile element produces `active_force`.
  const auto& a = activation;
  const auto& F = active_force;
  auto flce = k::active_force_length(normalized_length);
  auto a_rel = k::a_rel(normalized_length, flce);  // "above the optimal length", as the rigid model (SPEC §8.4)
  auto b_rel = k::b_rel(a);
  auto fa = flce * a;
  auto g = (fa + a * a_rel) / b_rel;
  auto p1 = -(fa / 2.0) / (k::kSas - 2.0 * g);
  auto p3 = -1.5 * fa;
  auto p2 = -4.0 * (fa / 2.0) * (fa / 2.0) * k::kSas / (k::kSas - 2.0 * g);
  auto shortening = (b_rel * (F - fa)) / (F + a * a_rel);
  auto discriminant = F * F + 2.0 * F * p1 * k::kSas + 2.0 * F * p3 + p1 * p1 * k::kSas * k::kSas +
                      2.0 * p1 * p3 * k::kSas + p2 + p3 * p3;
  // Where the concentric branch is used, feed sqrt a harmless 1 so its unused gradient stays finite.
  auto root = torch::sqrt(torch::where(F < fa, torch::ones_like(discriminant), discriminant.clamp_min(0.0)));
  auto lengthening = (-F + p1 * k::kSas - p3 - root) / (-2.0 * k::kSas);
  return torch::where(F < fa, shortening, lengthening);
}

torch::Tensor CompliantTendonHillMuscleImpl::ode(const torch::Tensor& excitation,
                                                 const torch::Tensor& muscle_state) const {
  auto activation = muscle_state.select(1, 0);
  auto length = muscle_state.select(1, 1);
  auto active_force = muscle_state.select(1, 5);
  auto activation_rate = activation_derivative(excitation, activation);
  auto velocity = normalized_velocity(length / optimal_muscle_length_, activation, active_force);
  return torch::stack({activation_rate, velocity}, 1);
}

torch::Tensor CompliantTendonHillMuscleImpl::integrate(double h, const torch::Tensor& derivative,
                                                       const torch::Tensor& muscle_state,
                                                       const torch::Tensor& geometry_state) const {
  // SPEC §5.5: forces from the old fibre length, then the fibre length advances by the normalised velocity.
  auto a = integrate_activation(h, derivative, muscle_state);
  auto length = muscle_state.select(1, 1);
  auto normalized_velocity_rate = derivative.select(1, 1);
  auto tendon = geometry_state.select(1, 0) - length;
  auto tendon_strain = ((tendon - tendon_length_) / tendon_length_).clamp_min(0.0);
  auto flse = (k::kTendonStiffness * tendon_strain * tendon_strain).clamp_max(1.0);
  auto flpe = k::passive_force_length(length, slack_length_, optimal_muscle_length_, passive_stiffness_);
  auto active = (flse - flpe).clamp_min(0.0);
  auto new_length = (length / optimal_muscle_length_ + h * normalized_velocity_rate) * optimal_muscle_length_;
  auto velocity = normalized_velocity_rate * max_velocity_;
  return stack_rows({a, new_length, velocity, flpe, flse, active, flse * max_isometric_force_});
}

torch::Tensor CompliantTendonHillMuscleImpl::initial_state(const torch::Tensor& geometry_state) const {
  auto musculotendon_length = geometry_state.select(1, 0);
  require(!(musculotendon_length < 0.0).any().item<bool>(), "initial_joint_state",
          "the musculotendon length of a compliant-tendon muscle is negative in this posture");
  const auto& l_se = tendon_length_;
  const auto& l_ce = optimal_muscle_length_;
  const auto& l_pe = slack_length_;
  const auto& k_pe = passive_stiffness_;
  const double k_se = k::kTendonStiffness;

  // Fibre length where tendon force and passive fibre force balance (beyond the slack of both).
  auto balanced = (k_pe * l_pe * l_se * l_se - k_se * l_ce * l_ce * musculotendon_length +
                   k_se * l_ce * l_ce * l_se -
                   l_ce * l_se * std::sqrt(k_se) * torch::sqrt(k_pe) * (l_pe + l_se - musculotendon_length)) /
                  (k_pe * l_se * l_se - k_se * l_ce * l_ce);
  auto length = torch::where(musculotendon_length < l_se, (kCollapsedLength * l_ce).expand_as(musculotendon_length),
                             torch::where(musculotendon_length < l_se + l_pe, musculotendon_length - l_se, balanced));

  auto activation = min_activation().expand_as(length);
  auto tendon_strain = ((musculotendon_length - length - l_se) / l_se).clamp_min(0.0);
  auto flse = (k_se * tendon_strain * tendon_strain).clamp_max(1.0);
  auto flpe = k::passive_force_length(length, l_pe, l_ce, k_pe).clamp_max(1.0);
  auto active = (flse - flpe).clamp_min(0.0);
  auto velocity = normalized_velocity(length / l_ce, activation, active);

  auto zero = torch::zeros_like(length);
  auto state = stack_rows({activation, length, zero, zero, zero, zero, zero});
  auto derivative = torch::stack({zero, velocity}, 1);
  return integrate(ministep(), derivative, state, geometry_state);
}

torch::Tensor CompliantTendonHillMuscleImpl::proprioceptive_length_scale() const { return optimal_muscle_length_; }
torch::Tensor CompliantTendonHillMuscleImpl::proprioceptive_velocity_scale() const { return max_velocity_; }

std::shared_ptr<const fused::MuscleKernel> CompliantTendonHillMuscleImpl::fused_kernel() const {
  if (typeid(*this) != typeid(CompliantTendonHillMuscleImpl)) return nullptr;  // a subclass may change equations
  return fused::make_compliant_tendon_hill_kernel(
      fused_activation_parameters(),
      {fused::values(max_isometric_force_), fused::values(tendon_length_), fused::values(optimal_muscle_length_),
       fused::values(slack_length_), fused::values(passive_stiffness_), fused::values(max_velocity_)});
}

}  // namespace motornet
