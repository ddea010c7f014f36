#pragma once
// A GRU cell as one autograd node (internal): the same equations and results as at::gru_cell, whose CPU
// version is a dozen small autograd ops, with the textbook backward written out.
#include <torch/torch.h>

namespace motornet {

// h' = n + z (h - n), r = s(x W_ir + b_ir + h W_hr + b_hr), z = s(... _z ...), n = tanh(x W_in + b_in +
// r (h W_hn + b_hn)); weights [3H, in] and [3H, H] in torch's (r, z, n) order. CPU, float32/float64.
torch::Tensor fused_gru_cell(const torch::Tensor& input, const torch::Tensor& hidden, const torch::Tensor& w_ih,
                             const torch::Tensor& w_hh, const torch::Tensor& b_ih, const torch::Tensor& b_hh);

}  // namespace motornet
