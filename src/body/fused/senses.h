#pragma once
// What the environment's senses read of a state (SPEC §7), for the fused effector step that computes them in its
// own node (sense_rows.h) and for the environment's senses node (src/env/sense_nodes.h):
//   vision         = fingertip (the first S columns of the cartesian state) + sigma_v * vision_draws
//   proprioception = [muscle length / length scale, muscle velocity / velocity scale] + sigma_p * proprio_draws
// Internal.
#include <torch/torch.h>

namespace motornet::fused {

struct SensesOptions {
  int64_t length_row = 0;        // the muscle state's length row; its velocity row follows it
  torch::Tensor scale;           // [2, M]: length and velocity scales
  double vision_sigma = 0.0;     // standard deviations of the noise (0: no draws are passed)
  double proprioception_sigma = 0.0;
};

// Whether the fused senses compute this state: CPU, float32/float64, the scale in the state's dtype.
inline bool senses_apply(const torch::Tensor& cartesian, const torch::Tensor& muscle, const SensesOptions& options) {
  const auto type = cartesian.scalar_type();
  return cartesian.device().is_cpu() && (type == torch::kFloat32 || type == torch::kFloat64) &&
         muscle.scalar_type() == type && muscle.device().is_cpu() && muscle.dim() == 3 && cartesian.dim() == 2 &&
         options.scale.defined() && options.scale.scalar_type() == type && options.scale.device().is_cpu() &&
         options.scale.dim() == 2 && options.scale.size(0) == 2 && options.scale.size(1) == muscle.size(2) &&
         options.length_row + 1 < muscle.size(1);
}

}  // namespace motornet::fused
