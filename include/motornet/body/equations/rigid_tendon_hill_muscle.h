#pragma once
// RigidTendonHillMuscle (SPEC §5.2): the Hill-type muscle of Kistemaker, Wong & Gribble (2010) with a rigid
// tendon.

#include <array>

#include "motornet/body/equations/kistemaker_curves.h"
#include "motornet/body/equations/rigid_tendon.h"

namespace motornet::equations {

struct RigidTendonHillMuscle : RigidTendonEquations<RigidTendonHillMuscle> {
  static constexpr std::array<const char*, 7> kStateNames = {
      "activation", "muscle length", "muscle velocity", "force-length PE", "force-length CE", "force-velocity CE",
      "force"};

  template <class P>
  struct Parameters {
    ActivationParameters<P> activation;
    P max_isometric_force, tendon_length, optimal_muscle_length, normalized_slack_muscle_length;
    P slack_length, passive_stiffness, max_velocity;  // derived
  };
  template <class P, class Fields>
  static void fields(Parameters<P>& p, Fields& f) {
    using Range = MuscleParameterSpec::Range;
    activation_fields(p.activation, f, /*min_activation=*/0.001);
    f.given(p.max_isometric_force, {"max_isometric_force", std::nullopt, Range::kPositive});
    f.given(p.tendon_length, {"tendon_length", std::nullopt, Range::kNonNegative});
    f.given(p.optimal_muscle_length, {"optimal_muscle_length", std::nullopt, Range::kPositive});
    f.given(p.normalized_slack_muscle_length, {"normalized_slack_muscle_length", 1.4, Range::kPositive});
    f.derived(p.slack_length, "slack_length");
    f.derived(p.passive_stiffness, "passive_stiffness");
    f.derived(p.max_velocity, "max_velocity");
  }
  template <class P>
  static void derive(Parameters<P>& p) {
    p.slack_length = p.normalized_slack_muscle_length * p.optimal_muscle_length;
    p.passive_stiffness = kistemaker::passive_stiffness(p.normalized_slack_muscle_length);
    p.max_velocity = kistemaker::kVmaxPerOptimalLength * p.optimal_muscle_length;
  }
  static void check(const Parameters<double>& p) {
    require(p.normalized_slack_muscle_length != kistemaker::kPassiveCurvatureAt, "normalized_slack_muscle_length",
            "must differ from 1.66, where the passive force-length curve diverges");
  }

  template <class T, class P>
  static std::array<T, 7> state(const Parameters<P>& p, const T& a, const T& musculotendon_length,
                                const T& musculotendon_velocity) {
    namespace k = kistemaker;
    auto length = clamp_min(musculotendon_length - p.tendon_length, 0.0);
    const T& velocity = musculotendon_velocity;
    auto ln = length / p.optimal_muscle_length;
    auto vn = velocity / p.max_velocity;

    auto flpe = k::passive_force_length(length, p.slack_length, p.optimal_muscle_length, p.passive_stiffness);
    auto flce = k::active_force_length(ln);
    auto a_rel = k::a_rel(ln, flce);
    auto b_rel = k::b_rel(a);
    auto fa = flce * a;
    auto g = a * (flce + a_rel) / b_rel;
    auto p1 = -(fa / 2.0) / (k::kSas - 2.0 * g);
    auto p2 = (fa / 2.0) * (fa / 2.0) / (k::kSas - 2.0 * g);
    auto p3 = -1.5 * fa;
    // Each branch sees only velocities of its own sign (a tensor branch must stay finite where it is not used).
    auto vs = clamp_max(vn, 0.0);
    auto shortening = (vs * a * a_rel + fa * b_rel) / (b_rel - vs);
    auto vl = clamp_min(vn, 0.0);
    auto lengthening = (-p1 * p3 + p1 * k::kSas * vl + p2 - p3 * vl + k::kSas * vl * vl) / (p1 + vl);
    auto fv = clamp_min(where(vn < 0.0, shortening, lengthening), 0.0);
    auto force = (fv + flpe) * p.max_isometric_force;
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
