#pragma once
// The environment's two senses of one step as one autograd node (internal):
//   vision         = fingertip (the first S columns of the cartesian state) + sigma_v * vision_draws
//   proprioception = [muscle length / length scale, muscle velocity / velocity scale] + sigma_p * proprio_draws
// Op by op that is a slice, a slice, a division and a reshape (and two additions with noise), each an autograd
// node whose backward allocates and fills a zero tensor of the whole state; together about a tenth of a
// tutorial batch.
#include <torch/torch.h>

#include <utility>

namespace motornet::fused {

struct SensesOptions {
  int64_t length_row = 0;        // the muscle state's length row; its velocity row follows it
  torch::Tensor scale;           // [2, M]: length and velocity scales
  double vision_sigma = 0.0;     // standard deviations of the noise (0: no draws are passed)
  double proprioception_sigma = 0.0;
};

// Whether senses() computes this state: CPU, float32/float64, the scale in the state's dtype.
bool senses_apply(const torch::Tensor& cartesian, const torch::Tensor& muscle, const SensesOptions& options);

// (vision [B, S], proprioception [B, 2M]); cartesian [B, 2S], muscle [B, rows, M]; the draws are standard normal
// [B, S] and [B, 2M], or undefined where the sigma is 0.
std::pair<torch::Tensor, torch::Tensor> senses(const torch::Tensor& cartesian, const torch::Tensor& muscle,
                                               const torch::Tensor& vision_draws, const torch::Tensor& proprio_draws,
                                               const SensesOptions& options);

// torch::cat(parts, 1) of 2-D tensors as one autograd node whose backward copies each part's columns out once.
// Parts that are already the adjacent column views of one tensor, in order and covering it, give that tensor.
torch::Tensor concat_columns(const std::vector<torch::Tensor>& parts);

}  // namespace motornet::fused
