#pragma once
// CompliantTendonHillMuscle (SPEC §5.5): Kistemaker et al. (2010) with a compliant tendon. The fibre length is a
// state, advanced by the normalised fibre velocity at which the contractile element produces the active force
// that balances tendon and fibres (a second derivative row).

#include <array>
#include <cmath>

#include "motornet/body/equations/activation.h"
#include "motornet/body/equations/kistemaker_curves.h"

namespace motornet::equations {

struct CompliantTendonHillMuscle {
  static constexpr std::array<const char*, 7> kStateNames = {
      "activation", "muscle length", "muscle velocity", "force-length PE", "force-length SE", "active force",
      "force"};
  static constexpr int kDerivatives = 2;                       // d activation / dt, normalised fibre velocity
  static constexpr std::array<int, 3> kOdeReads = {0, 1, 5};   // activation, fibre length, active force
  static constexpr std::array<int, 2> kIntegrateReads = {0, 1};  // activation, fibre length
  static constexpr double kCollapsedLength = 0.001;  // fibre length (in l_ce) when the path is shorter than the tendon

  template <class P>
  struct Parameters {
    ActivationParameters<P> activation;
    P max_isometric_force, tendon_length, optimal_muscle_length, normalized_slack_muscle_length;
    P slack_length, passive_stiffness, max_velocity;  // derived
  };
  template <class P, class Fields>
  static void fields(Parameters<P>& p, Fields& f) {
    using Range = MuscleParameterSpec::Range;
    activation_fields(p.activation, f, /*min_activation=*/0.01);
    f.given(p.max_isometric_force, {"max_isometric_force", std::nullopt, Range::kPositive});
    f.given(p.tendon_length, {"tendon_length", std::nullopt, Range::kPositive});
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

  // SPEC §5.5 nvel: the normalised fibre velocity at which the contractile element produces `active_force`.
  template <class T>
  static T normalized_velocity(const T& normalized_length, const T& a, const T& F) {
    namespace k = kistemaker;
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
    // Where the concentric branch is used, feed sqrt a harmless 1 so that its unused tensor gradient stays finite.
    auto root = sqrt(where(F < fa, 1.0, clamp_min(discriminant, 0.0)));
    auto lengthening = (-F + p1 * k::kSas - p3 - root) / (-2.0 * k::kSas);
    return where(F < fa, shortening, lengthening);
  }

  template <class T, class P>
  static std::array<T, 2> ode(const Parameters<P>& p, const T& excitation, const std::array<T, 3>& rows) {
    const T& activation = rows[0];
    const T& length = rows[1];
    const T& active_force = rows[2];
    return {activation_rate(p.activation, excitation, activation),
            normalized_velocity(length / p.optimal_muscle_length, activation, active_force)};
  }

  // Forces from the old fibre length, then the fibre length advances by the normalised velocity.
  template <class T, class P>
  static std::array<T, 7> integrate(const Parameters<P>& p, double h, const std::array<T, 2>& derivative,
                                    const std::array<T, 2>& rows, const T& musculotendon_length,
                                    const T& /*musculotendon_velocity*/) {
    auto a = integrate_activation(p.activation, h, rows[0], derivative[0]);
    const T& length = rows[1];
    const T& normalized_velocity_rate = derivative[1];
    auto tendon = musculotendon_length - length;
    auto tendon_strain = clamp_min((tendon - p.tendon_length) / p.tendon_length, 0.0);
    auto flse = clamp_max(kistemaker::kTendonStiffness * tendon_strain * tendon_strain, 1.0);
    auto flpe = kistemaker::passive_force_length(length, p.slack_length, p.optimal_muscle_length, p.passive_stiffness);
    auto active = clamp_min(flse - flpe, 0.0);
    auto new_length = (length / p.optimal_muscle_length + h * normalized_velocity_rate) * p.optimal_muscle_length;
    auto velocity = normalized_velocity_rate * p.max_velocity;
    return {a, new_length, velocity, flpe, flse, active, flse * p.max_isometric_force};
  }

  // The fibre length where tendon and passive fibre forces balance, at minimum activation, then one step h with
  // the velocity that length implies.
  template <class T, class P>
  static std::array<T, 7> rest(const Parameters<P>& p, double h, const T& musculotendon_length,
                               const T& musculotendon_velocity) {
    require_nowhere(musculotendon_length < 0.0, "initial_joint_state",
                    "the musculotendon length of a compliant-tendon muscle is negative in this posture");
    const T& mt = musculotendon_length;
    const P& l_se = p.tendon_length;
    const P& l_ce = p.optimal_muscle_length;
    const P& l_pe = p.slack_length;
    const P& k_pe = p.passive_stiffness;
    const double k_se = kistemaker::kTendonStiffness;
    auto balanced = (k_pe * l_pe * l_se * l_se - k_se * l_ce * l_ce * mt + k_se * l_ce * l_ce * l_se -
                     l_ce * l_se * std::sqrt(k_se) * sqrt(k_pe) * (l_pe + l_se - mt)) /
                    (k_pe * l_se * l_se - k_se * l_ce * l_ce);
    auto length = where(mt < l_se, broadcast(kCollapsedLength * l_ce, mt), where(mt < l_se + l_pe, mt - l_se, balanced));

    auto activation = broadcast(p.activation.min_activation, length);
    auto tendon_strain = clamp_min((mt - length - l_se) / l_se, 0.0);
    auto flse = clamp_max(k_se * tendon_strain * tendon_strain, 1.0);
    auto flpe = clamp_max(kistemaker::passive_force_length(length, l_pe, l_ce, k_pe), 1.0);
    auto active = clamp_min(flse - flpe, 0.0);
    auto velocity = normalized_velocity(length / l_ce, activation, active);
    auto zero = broadcast(0.0, length);
    return integrate(p, h, std::array<T, 2>{zero, velocity}, std::array<T, 2>{activation, length}, mt,
                     musculotendon_velocity);
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
