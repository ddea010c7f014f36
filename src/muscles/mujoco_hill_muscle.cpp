#include "motornet/muscles/mujoco_hill_muscle.h"

#include <typeinfo>

#include "../fused/builtin_kernels.h"
#include "../fused/tensor_values.h"
#include "motornet/error.h"

namespace motornet {

namespace {
constexpr double kMinLength = 0.001;  // m: fibre length floor

torch::Tensor squared(const torch::Tensor& x) { return x * x; }
}  // namespace

std::vector<std::string> MujocoHillMuscleImpl::state_names() const {
  return {"activation",       "muscle length",     "muscle velocity", "force-length PE",
          "force-length CE", "force-velocity CE", "force"};
}

std::vector<MuscleParameterSpec> MujocoHillMuscleImpl::parameter_specs() const {
  using Range = MuscleParameterSpec::Range;
  auto specs = activation_parameter_specs(/*min_activation=*/0.0, /*tau_activation=*/0.01, /*tau_deactivation=*/0.04);
  specs.push_back({"max_isometric_force", std::nullopt, Range::kPositive});
  specs.push_back({"tendon_length", std::nullopt, Range::kNonNegative});
  specs.push_back({"optimal_muscle_length", std::nullopt, Range::kPositive});
  specs.push_back({"passive_forces", 1.0, Range::kNonNegative});
  // MuJoCo's fpmax: the passive force at the end of its quadratic part, in units of F0.
  specs.push_back({"normalized_slack_muscle_length", 1.3, Range::kNonNegative});
  specs.push_back({"lmin", 0.5, Range::kPositive});
  specs.push_back({"lmax", 1.6, Range::kPositive});
  specs.push_back({"vmax", 1.5, Range::kPositive});
  specs.push_back({"fvmax", 1.2, Range::kPositive});
  return specs;
}

void MujocoHillMuscleImpl::on_build() {
  max_isometric_force_ = parameter("max_isometric_force");
  tendon_length_ = parameter("tendon_length");
  optimal_muscle_length_ = parameter("optimal_muscle_length");
  passive_forces_ = parameter("passive_forces");
  passive_max_ = parameter("normalized_slack_muscle_length");
  lmin_ = parameter("lmin");
  lmax_ = parameter("lmax");
  vmax_ = parameter("vmax");
  fvmax_ = parameter("fvmax");
  require((lmin_ < 1.0).all().item<bool>(), "lmin", "must be below 1 (the optimal length)");
  require((lmax_ > 1.0).all().item<bool>(), "lmax", "must be above 1 (the optimal length)");
  require((fvmax_ > 1.0).all().item<bool>(), "fvmax", "must be above 1");
}

torch::Tensor MujocoHillMuscleImpl::ode(const torch::Tensor& excitation, const torch::Tensor& muscle_state) const {
  return activation_derivative(excitation, muscle_state.select(1, 0)).unsqueeze(1);
}

torch::Tensor MujocoHillMuscleImpl::integrate(double h, const torch::Tensor& derivative,
                                              const torch::Tensor& muscle_state,
                                              const torch::Tensor& geometry_state) const {
  // SPEC §5.4; L and V normalised by the optimal length (and vmax, in optimal lengths per second).
  auto a = integrate_activation(h, derivative, muscle_state);
  auto L = (geometry_state.select(1, 0) - tendon_length_).clamp_min(kMinLength) / optimal_muscle_length_;
  auto musculotendon_velocity = geometry_state.select(1, 1);
  auto V = musculotendon_velocity / (optimal_muscle_length_ * vmax_);
  auto zero = torch::zeros_like(L);

  // Passive force: 0 up to the optimal length, half-quadratic up to b = (1 + lmax)/2, then linear.
  auto b = 0.5 * (1.0 + lmax_);
  auto x_passive = (L - 1.0) / (b - 1.0);
  auto flpe = torch::where(
      L <= 1.0, zero,
      torch::where(L <= b, passive_max_ * 0.5 * squared(x_passive), passive_max_ * (0.5 + (L - b) / (b - 1.0))));

  // Active force-length: two quadratic pieces on each side of the optimum, 0 outside [lmin, lmax].
  auto left = 0.5 * (lmin_ + 1.0);
  auto right = 0.5 * (1.0 + lmax_);
  auto flce = torch::where(
      L <= left, 0.5 * squared((L - lmin_) / (left - lmin_)),
      torch::where(L <= 1.0, 1.0 - 0.5 * squared((1.0 - L) / (1.0 - left)),
                   torch::where(L <= right, 1.0 - 0.5 * squared((L - 1.0) / (right - 1.0)),
                                0.5 * squared((lmax_ - L) / (lmax_ - right)))));
  flce = torch::where((L < lmin_).logical_or(L > lmax_), zero, flce);

  // Force-velocity: 0 below -1, quadratic rise to 1 at V = 0, quadratic to fvmax at V = c, then flat.
  auto c = fvmax_ - 1.0;
  auto fv = torch::where(
      V <= -1.0, zero,
      torch::where(V <= 0.0, squared(V + 1.0),
                   torch::where(V <= c, fvmax_ - squared(c - V) / c, fvmax_.expand_as(V))));

  auto force = (a * flce * fv + passive_forces_ * flpe) * max_isometric_force_;
  return stack_rows({a, L * optimal_muscle_length_, musculotendon_velocity, flpe, flce, fv, force});
}

std::shared_ptr<const fused::MuscleKernel> MujocoHillMuscleImpl::fused_kernel() const {
  if (typeid(*this) != typeid(MujocoHillMuscleImpl)) return nullptr;
  return fused::make_mujoco_hill_kernel(
      fused_activation_parameters(),
      {fused::values(max_isometric_force_), fused::values(tendon_length_), fused::values(optimal_muscle_length_),
       fused::values(passive_forces_), fused::values(passive_max_), fused::values(lmin_), fused::values(lmax_),
       fused::values(vmax_), fused::values(fvmax_)});
}

torch::Tensor MujocoHillMuscleImpl::proprioceptive_length_scale() const { return optimal_muscle_length_; }
torch::Tensor MujocoHillMuscleImpl::proprioceptive_velocity_scale() const { return optimal_muscle_length_ * vmax_; }

}  // namespace motornet
