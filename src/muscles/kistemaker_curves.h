#pragma once
// Curves shared by the two Kistemaker, Wong & Gribble (2010) Hill models (SPEC §5.2 and §5.5). Internal.

#include <torch/torch.h>

#include "kistemaker_constants.h"

namespace motornet::kistemaker {

// flce = max(1 + (-ln² + 2 ln - 1)/w², flce_min)
inline torch::Tensor active_force_length(const torch::Tensor& normalized_length) {
  const auto& ln = normalized_length;
  return (1.0 + (-ln * ln + 2.0 * ln - 1.0) / kWidthSquared).clamp_min(kFlceMin);
}

// a_rel = 0.41 flce above the optimal length (ln > 1), else 0.41.
inline torch::Tensor a_rel(const torch::Tensor& normalized_length, const torch::Tensor& flce) {
  return torch::where(normalized_length > 1.0, 0.41 * flce, torch::full_like(flce, 0.41));
}

// b_rel = 5.2 (1 - 0.9 (a - q_crit)/(0.005 - q_crit))² below q_crit, else 5.2.
inline torch::Tensor b_rel(const torch::Tensor& activation) {
  auto scaled = 1.0 - 0.9 * (activation - kQCrit) / (0.005 - kQCrit);
  return torch::where(activation < kQCrit, 5.2 * scaled * scaled, torch::full_like(activation, 5.2));
}

// k_pe for a normalised slack length l_pe/l_ce.
inline torch::Tensor passive_stiffness(const torch::Tensor& normalized_slack_length) {
  auto gap = kPassiveCurvatureAt - normalized_slack_length;
  return 1.0 / (gap * gap);
}

// flpe = k_pe max((l - l_pe)/l_ce, 0)²
inline torch::Tensor passive_force_length(const torch::Tensor& length, const torch::Tensor& slack_length,
                                          const torch::Tensor& optimal_length, const torch::Tensor& stiffness) {
  auto stretch = ((length - slack_length) / optimal_length).clamp_min(0.0);
  return stiffness * stretch * stretch;
}

}  // namespace motornet::kistemaker
