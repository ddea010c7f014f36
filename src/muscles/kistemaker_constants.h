#pragma once
// Constants of the Kistemaker, Wong & Gribble (2010) Hill curves (SPEC §5.2 and §5.5), shared by the op-by-op
// curves (kistemaker_curves.h) and the fused kernels. Internal.

namespace motornet::kistemaker {
constexpr double kSas = 0.001;             // s_as: slope of the eccentric force-velocity asymptote
constexpr double kWidthSquared = 0.66 * 0.66;  // w²: width of the force-length curve
constexpr double kQCrit = 0.3;             // q_crit: activation below which b_rel scales down
constexpr double kFlceMin = 0.01;          // flce_min: floor of the active force-length curve
constexpr double kPassiveCurvatureAt = 1.66;  // k_pe = 1 / (1.66 - l_pe/l_ce)²
constexpr double kVmaxPerOptimalLength = 10.0;  // vmax = 10 l_ce
constexpr double kTendonStiffness = 1.0 / (0.04 * 0.04);  // k_se (compliant tendon)

}  // namespace motornet::kistemaker
