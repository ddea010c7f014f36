#pragma once
// RigidTendonHillMuscleThelen (SPEC §5.3): Thelen's (2003) curves with a rigid tendon.

#include <array>
#include <cmath>

#include "motornet/body/equations/rigid_tendon.h"

namespace motornet::equations {

struct RigidTendonHillMuscleThelen : RigidTendonEquations<RigidTendonHillMuscleThelen> {
  static constexpr std::array<const char*, 7> kStateNames = {
      "activation", "muscle length", "muscle velocity", "force-length PE", "force-length CE", "force-velocity CE",
      "force"};

  static constexpr double kPassiveShape = 5.0;       // k
  static constexpr double kPassiveStrainAtF0 = 0.6;  // e0
  static constexpr double kGamma = 0.45;             // width of the Gaussian force-length curve
  static constexpr double kAf = 0.25;                // force-velocity shape factor
  static constexpr double kFmlen = 1.4;              // maximal normalised lengthening force
  static constexpr double kMinLength = 0.001;        // m: fibre length floor
  static constexpr double kVmaxPerOptimalLength = 10.0;

  template <class P>
  struct Parameters {
    ActivationParameters<P> activation;
    P max_isometric_force, tendon_length, optimal_muscle_length, normalized_slack_muscle_length;
    P slack_length, max_velocity;  // derived
  };
  template <class P, class Fields>
  static void fields(Parameters<P>& p, Fields& f) {
    using Range = MuscleParameterSpec::Range;
    activation_fields(p.activation, f, /*min_activation=*/0.001);
    f.given(p.max_isometric_force, {"max_isometric_force", std::nullopt, Range::kPositive});
    f.given(p.tendon_length, {"tendon_length", std::nullopt, Range::kNonNegative});
    f.given(p.optimal_muscle_length, {"optimal_muscle_length", std::nullopt, Range::kPositive});
    f.given(p.normalized_slack_muscle_length, {"normalized_slack_muscle_length", 1.0, Range::kPositive});
    f.derived(p.slack_length, "slack_length");
    f.derived(p.max_velocity, "max_velocity");
  }
  template <class P>
  static void derive(Parameters<P>& p) {
    p.slack_length = p.normalized_slack_muscle_length * p.optimal_muscle_length;
    p.max_velocity = kVmaxPerOptimalLength * p.optimal_muscle_length;
  }

  template <class T, class P>
  static std::array<T, 7> state(const Parameters<P>& p, const T& a, const T& musculotendon_length,
                                const T& musculotendon_velocity) {
    auto length = clamp_min(musculotendon_length - p.tendon_length, kMinLength);
    const T& velocity = musculotendon_velocity;
    const P& l_ce = p.optimal_muscle_length;
    const P& vmax = p.max_velocity;

    auto flpe = clamp_min((exp(kPassiveShape * (length - p.slack_length) / (kPassiveStrainAtF0 * l_ce)) - 1.0) /
                              (std::exp(kPassiveShape) - 1.0),
                          0.0);
    auto stretch = length / l_ce - 1.0;
    auto flce = exp(-(stretch * stretch) / kGamma);

    // Each branch sees only velocities of its own sign (a tensor branch must stay finite where it is not used).
    auto vs = clamp_max(velocity, 0.0);
    auto shortening = kAf * (3.0 * a * vmax + 4.0 * vs + vmax) / (3.0 * a * kAf * vmax + kAf * vmax - 4.0 * vs);
    auto vl = clamp_min(velocity, 0.0);
    auto c2 = 3.0 * kAf * vmax * kFmlen - 3.0 * kAf * vmax;
    auto c3 = 8.0 * kAf * kFmlen + 8.0 * kFmlen;
    auto c4 = kAf * kFmlen * vmax - kAf * vmax;
    auto c5 = 8.0 * (kAf + 1.0);
    auto lengthening = (c2 * a + c3 * vl + c4) / (3.0 * a * c4 + c5 * vl + c4);
    auto fv = clamp_min(where(velocity <= 0.0, shortening, lengthening), 0.0);

    auto force = (a * flce * fv + flpe) * p.max_isometric_force;
    return {a, length, velocity, flpe, flce, fv, force};
  }

  template <class P>
  static P proprioceptive_length_scale(const Parameters<P>& p) {
    return p.optimal_muscle_length;
  }
  template <class P>
  static P proprioceptive_velocity_scale(const Parameters<P>& p) {
    return p.max_velocity;
  }
};

}  // namespace motornet::equations
