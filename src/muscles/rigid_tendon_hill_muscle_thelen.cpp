#include "motornet/muscles/rigid_tendon_hill_muscle_thelen.h"

#include <cmath>
#include <typeinfo>

#include "../fused/builtin_kernels.h"
#include "../fused/tensor_values.h"
#include "thelen_constants.h"

namespace motornet {

using namespace thelen;  // the model's constants, shared with its fused kernel

std::vector<std::string> RigidTendonHillMuscleThelenImpl::state_names() const {
  return {"activation",       "muscle length",     "muscle velocity", "force-length PE",
          "force-length CE", "force-velocity CE", "force"};
}

std::vector<MuscleParameterSpec> RigidTendonHillMuscleThelenImpl::parameter_specs() const {
  using Range = MuscleParameterSpec::Range;
  auto specs = activation_parameter_specs(/*min_activation=*/0.001);
  specs.push_back({"max_isometric_force", std::nullopt, Range::kPositive});
  specs.push_back({"tendon_length", std::nullopt, Range::kNonNegative});
  specs.push_back({"optimal_muscle_length", std::nullopt, Range::kPositive});
  specs.push_back({"normalized_slack_muscle_length", 1.0, Range::kPositive});
  return specs;
}

void RigidTendonHillMuscleThelenImpl::on_build() {
  max_isometric_force_ = parameter("max_isometric_force");
  tendon_length_ = parameter("tendon_length");
  optimal_muscle_length_ = parameter("optimal_muscle_length");
  slack_length_ = set_buffer("slack_length", parameter("normalized_slack_muscle_length") * optimal_muscle_length_);
  max_velocity_ = set_buffer("max_velocity", kVmaxPerOptimalLength * optimal_muscle_length_);
}

torch::Tensor RigidTendonHillMuscleThelenImpl::ode(const torch::Tensor& excitation,
                                                   const torch::Tensor& muscle_state) const {
  return activation_derivative(excitation, muscle_state.select(1, 0)).unsqueeze(1);
}

torch::Tensor RigidTendonHillMuscleThelenImpl::integrate(double h, const torch::Tensor& derivative,
                                                         const torch::Tensor& muscle_state,
                                                         const torch::Tensor& geometry_state) const {
  // SPEC §5.3.
  auto a = integrate_activation(h, derivative, muscle_state);
  auto length = (geometry_state.select(1, 0) - tendon_length_).clamp_min(kMinLength);
  auto velocity = geometry_state.select(1, 1);
  const auto& l_ce = optimal_muscle_length_;
  const auto& vmax = max_velocity_;

  auto flpe = ((torch::exp(kPassiveShape * (length - slack_length_) / (kPassiveStrainAtF0 * l_ce)) - 1.0) /
               (std::exp(kPassiveShape) - 1.0))
                  .clamp_min(0.0);
  auto stretch = length / l_ce - 1.0;
  auto flce = torch::exp(-(stretch * stretch) / kGamma);

  // Each branch sees only velocities of its own sign so that the unused one cannot make NaN gradients.
  auto vs = velocity.clamp_max(0.0);
  auto shortening = kAf * (3.0 * a * vmax + 4.0 * vs + vmax) / (3.0 * a * kAf * vmax + kAf * vmax - 4.0 * vs);
  auto vl = velocity.clamp_min(0.0);
  auto c2 = 3.0 * kAf * vmax * kFmlen - 3.0 * kAf * vmax;
  auto c3 = 8.0 * kAf * kFmlen + 8.0 * kFmlen;
  auto c4 = kAf * kFmlen * vmax - kAf * vmax;
  auto c5 = 8.0 * (kAf + 1.0);
  auto lengthening = (c2 * a + c3 * vl + c4) / (3.0 * a * c4 + c5 * vl + c4);
  auto fv = torch::where(velocity <= 0.0, shortening, lengthening).clamp_min(0.0);

  auto force = (a * flce * fv + flpe) * max_isometric_force_;
  return stack_rows({a, length, velocity, flpe, flce, fv, force});
}

std::shared_ptr<const fused::MuscleKernel> RigidTendonHillMuscleThelenImpl::fused_kernel() const {
  if (typeid(*this) != typeid(RigidTendonHillMuscleThelenImpl)) return nullptr;
  return fused::make_rigid_tendon_thelen_kernel(
      fused_activation_parameters(),
      {fused::values(max_isometric_force_), fused::values(tendon_length_), fused::values(optimal_muscle_length_),
       fused::values(slack_length_), fused::values(max_velocity_)});
}

torch::Tensor RigidTendonHillMuscleThelenImpl::proprioceptive_length_scale() const { return optimal_muscle_length_; }
torch::Tensor RigidTendonHillMuscleThelenImpl::proprioceptive_velocity_scale() const { return max_velocity_; }

}  // namespace motornet
