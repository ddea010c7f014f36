#pragma once
// The curves of the Kistemaker, Wong & Gribble (2010) Hill models (SPEC §5.2 and §5.5), shared by the rigid
// and the compliant tendon, over the number type (ops.h).

#include "motornet/body/equations/ops.h"

namespace motornet::equations::kistemaker {

constexpr double kSas = 0.001;                            // s_as: slope of the eccentric force-velocity asymptote
constexpr double kWidthSquared = 0.66 * 0.66;             // w²: width of the force-length curve
constexpr double kQCrit = 0.3;                            // q_crit: activation below which b_rel scales down
constexpr double kFlceMin = 0.01;                         // flce_min: floor of the active force-length curve
constexpr double kPassiveCurvatureAt = 1.66;              // k_pe = 1 / (1.66 - l_pe/l_ce)²
constexpr double kVmaxPerOptimalLength = 10.0;            // vmax = 10 l_ce
constexpr double kTendonStiffness = 1.0 / (0.04 * 0.04);  // k_se (compliant tendon)

// flce = max(1 + (-ln² + 2 ln - 1)/w², flce_min)
template <class T>
T active_force_length(const T& ln) {
  return clamp_min(1.0 + (-ln * ln + 2.0 * ln - 1.0) / kWidthSquared, kFlceMin);
}

// a_rel = 0.41 flce above the optimal length (ln > 1), else 0.41.
template <class T>
T a_rel(const T& ln, const T& flce) {
  return where(ln > 1.0, 0.41 * flce, 0.41);
}

// b_rel = 5.2 (1 - 0.9 (a - q_crit)/(0.005 - q_crit))² below q_crit, else 5.2.
template <class T>
T b_rel(const T& activation) {
  auto scaled = 1.0 - 0.9 * (activation - kQCrit) / (0.005 - kQCrit);
  return where(activation < kQCrit, 5.2 * scaled * scaled, 5.2);
}

// k_pe for a normalised slack length l_pe/l_ce.
template <class P>
P passive_stiffness(const P& normalized_slack_length) {
  auto gap = kPassiveCurvatureAt - normalized_slack_length;
  return 1.0 / (gap * gap);
}

// flpe = k_pe max((l - l_pe)/l_ce, 0)²
template <class T, class P>
T passive_force_length(const T& length, const P& slack_length, const P& optimal_length, const P& stiffness) {
  auto stretch = clamp_min((length - slack_length) / optimal_length, 0.0);
  return stiffness * stretch * stretch;
}

}  // namespace motornet::equations::kistemaker
