#pragma once
// The activation- and length-dependent terms the two Kistemaker Hill kernels share (SPEC §5.2, §5.5), per
// muscle, with their vector-Jacobian product; the fused twins of kistemaker_curves.h's active_force_length,
// a_rel and b_rel. Internal.
#include <algorithm>

#include "../muscles/kistemaker_constants.h"

namespace motornet::fused {

struct KistemakerActive {
  KistemakerActive() = default;
  // At normalised fibre length `ln` and activation `a`.
  KistemakerActive(double ln, double a) : ln(ln), a(a) {
    namespace k = kistemaker;
    flce_raw = 1.0 + (-ln * ln + 2.0 * ln - 1.0) / k::kWidthSquared;
    flce = std::max(flce_raw, k::kFlceMin);
    a_rel = ln > 1.0 ? 0.41 * flce : 0.41;
    b_scaled = 1.0 - 0.9 * (a - k::kQCrit) / (0.005 - k::kQCrit);
    b_rel = a < k::kQCrit ? 5.2 * b_scaled * b_scaled : 5.2;
  }

  // From the gradients of flce, a_rel and b_rel, adds those of ln and a (with the branch choices of the op-by-op
  // curves: a clamp passes the gradient at its bound, `where` gives the unselected branch nothing).
  void vjp(double grad_flce, double grad_a_rel, double grad_b_rel, double& grad_ln, double& grad_a) const {
    namespace k = kistemaker;
    // b_rel = 5.2 scaled² below q_crit, scaled = 1 - 0.9 (a - q_crit)/(0.005 - q_crit)
    if (a < k::kQCrit) grad_a += grad_b_rel * 5.2 * 2.0 * b_scaled * (-0.9 / (0.005 - k::kQCrit));
    // a_rel = 0.41 flce above the optimal length
    if (ln > 1.0) grad_flce += grad_a_rel * 0.41;
    // flce = max(1 + (-ln² + 2 ln - 1)/w², flce_min)
    if (flce_raw >= k::kFlceMin) grad_ln += grad_flce * (-2.0 * ln + 2.0) / k::kWidthSquared;
  }

  double ln = 0, a = 0;
  double flce_raw = 0, flce = 0, a_rel = 0, b_scaled = 0, b_rel = 0;
};

}  // namespace motornet::fused
