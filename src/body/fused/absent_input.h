#pragma once
// Custom autograd functions cannot take undefined tensors: an absent optional input (a load, noise draws, a
// gradient token) travels as one shared empty tensor, and the function reads emptiness as "absent" (internal).
#include <torch/torch.h>

namespace motornet::fused {

inline const torch::Tensor& absent_input() {
  static const torch::Tensor empty = torch::empty({0});
  return empty;
}

// `t`, or the absent input when `t` is undefined.
inline const torch::Tensor& or_absent(const torch::Tensor& t) { return t.defined() ? t : absent_input(); }

}  // namespace motornet::fused
