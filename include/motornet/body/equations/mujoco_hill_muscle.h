#pragma once
// MujocoHillMuscle (SPEC §5.4): MuJoCo's muscle gain and bias curves (mju_muscleGain, mju_muscleBias) with a
// rigid tendon. Lengths are in optimal lengths, velocities in optimal lengths times vmax per second.

#include <array>

#include "motornet/body/equations/rigid_tendon.h"

namespace motornet::equations {

struct MujocoHillMuscle : RigidTendonEquations<MujocoHillMuscle> {
  static constexpr std::array<const char*, 7> kStateNames = {
      "activation", "muscle length", "muscle velocity", "force-length PE", "force-length CE", "force-velocity CE",
      "force"};
  static constexpr double kMinLength = 0.001;  // m: fibre length floor

  template <class P>
  struct Parameters {
    ActivationParameters<P> activation;
    P max_isometric_force, tendon_length, optimal_muscle_length, passive_forces;
    P passive_max;  // MuJoCo's fpmax, configured as normalized_slack_muscle_length
    P lmin, lmax, vmax, fvmax;
  };
  template <class P, class Fields>
  static void fields(Parameters<P>& p, Fields& f) {
    using Range = MuscleParameterSpec::Range;
    activation_fields(p.activation, f, /*min_activation=*/0.0, /*tau_activation=*/0.01, /*tau_deactivation=*/0.04);
    f.given(p.max_isometric_force, {"max_isometric_force", std::nullopt, Range::kPositive});
    f.given(p.tendon_length, {"tendon_length", std::nullopt, Range::kNonNegative});
    f.given(p.optimal_muscle_length, {"optimal_muscle_length", std::nullopt, Range::kPositive});
    f.given(p.passive_forces, {"passive_forces", 1.0, Range::kNonNegative});
    // The passive force at the end of its quadratic part, in units of F0.
    f.given(p.passive_max, {"normalized_slack_muscle_length", 1.3, Range::kNonNegative});
    f.given(p.lmin, {"lmin", 0.5, Range::kPositive});
    f.given(p.lmax, {"lmax", 1.6, Range::kPositive});
    f.given(p.vmax, {"vmax", 1.5, Range::kPositive});
    f.given(p.fvmax, {"fvmax", 1.2, Range::kPositive});
  }
  static void check(const Parameters<double>& p) {
    require(p.lmin < 1.0, "lmin", "must be below 1 (the optimal length)");
    require(p.lmax > 1.0, "lmax", "must be above 1 (the optimal length)");
    require(p.fvmax > 1.0, "fvmax", "must be above 1");
  }

  template <class T, class P>
  static std::array<T, 7> state(const Parameters<P>& p, const T& a, const T& musculotendon_length,
                                const T& musculotendon_velocity) {
    auto L = clamp_min(musculotendon_length - p.tendon_length, kMinLength) / p.optimal_muscle_length;
    auto V = musculotendon_velocity / (p.optimal_muscle_length * p.vmax);

    // Passive force: 0 up to the optimal length, half-quadratic up to b = (1 + lmax)/2, then linear.
    auto b = 0.5 * (1.0 + p.lmax);
    auto x_passive = (L - 1.0) / (b - 1.0);
    auto flpe = where(L <= 1.0, 0.0,
                      where(L <= b, p.passive_max * 0.5 * squared(x_passive),
                            p.passive_max * (0.5 + (L - b) / (b - 1.0))));

    // Active force-length: two quadratic pieces on each side of the optimum, 0 outside [lmin, lmax].
    auto left = 0.5 * (p.lmin + 1.0);
    auto right = 0.5 * (1.0 + p.lmax);
    auto flce = where(L <= left, 0.5 * squared((L - p.lmin) / (left - p.lmin)),
                      where(L <= 1.0, 1.0 - 0.5 * squared((1.0 - L) / (1.0 - left)),
                            where(L <= right, 1.0 - 0.5 * squared((L - 1.0) / (right - 1.0)),
                                  0.5 * squared((p.lmax - L) / (p.lmax - right)))));
    flce = where(logical_or(L < p.lmin, L > p.lmax), 0.0, flce);

    // Force-velocity: 0 below -1, quadratic rise to 1 at V = 0, quadratic to fvmax at V = c, then flat.
    auto c = p.fvmax - 1.0;
    auto fv = where(V <= -1.0, 0.0,
                    where(V <= 0.0, squared(V + 1.0), where(V <= c, p.fvmax - squared(c - V) / c, p.fvmax)));

    auto force = (a * flce * fv + p.passive_forces * flpe) * p.max_isometric_force;
    return {a, L * p.optimal_muscle_length, musculotendon_velocity, flpe, flce, fv, force};
  }

  template <class P>
  static P proprioceptive_length_scale(const Parameters<P>& p) {
    return p.optimal_muscle_length;
  }
  template <class P>
  static P proprioceptive_velocity_scale(const Parameters<P>& p) {
    return p.optimal_muscle_length * p.vmax;
  }
};

}  // namespace motornet::equations
