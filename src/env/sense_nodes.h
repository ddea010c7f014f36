#pragma once
// The environment's senses and observation as autograd nodes (internal), where its fused step node
// (env/environment_step.h) does not make them: the first observation of a reset, and steps that do not run fused
// (op-by-op effectors, muscles whose length and velocity rows are not adjacent).
//   senses():  vision and proprioception of a state (body/fused/senses.h) as one node. Op by op that is a slice,
//              a slice, a division and a reshape (and two additions with noise), each an autograd node whose
//              backward allocates and fills a zero tensor of the whole state; together about a tenth of a
//              tutorial batch.
//   concat_columns(): the observation's concatenation as one node.
#include <torch/torch.h>

#include <utility>
#include <vector>

#include "body/fused/senses.h"

namespace motornet::fused {

// (vision [B, S], proprioception [B, 2M]); cartesian [B, 2S], muscle [B, rows, M]; the draws are standard normal
// [B, S] and [B, 2M], or undefined where the sigma is 0. Requires senses_apply.
std::pair<torch::Tensor, torch::Tensor> senses(const torch::Tensor& cartesian, const torch::Tensor& muscle,
                                               const torch::Tensor& vision_draws, const torch::Tensor& proprio_draws,
                                               const SensesOptions& options);

// The tensor whose adjacent column blocks `parts` are, in order and covering it whole (zero-width parts aside),
// or an undefined tensor. The fused steps hand their observation to `observe` as such views.
torch::Tensor tiled_whole(const std::vector<torch::Tensor>& parts);

// torch::cat(parts, 1) of 2-D tensors as one autograd node whose backward copies each part's columns out once.
// Parts that are already the adjacent column views of one tensor, in order and covering it, give that tensor.
torch::Tensor concat_columns(const std::vector<torch::Tensor>& parts);

}  // namespace motornet::fused
