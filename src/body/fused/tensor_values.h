#pragma once
// Reading a model's buffers into the plain vectors fused kernels hold (internal).
#include <torch/torch.h>

#include <vector>

namespace motornet::fused {

// The values of a 1-D tensor, as stored (rounded to its dtype), in double.
inline std::vector<double> values(const torch::Tensor& t) {
  auto flat = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
}

// The rows of a 2-D tensor.
inline std::vector<std::vector<double>> rows(const torch::Tensor& t) {
  std::vector<std::vector<double>> out;
  for (int64_t i = 0; i < t.size(0); ++i) out.push_back(values(t[i]));
  return out;
}

}  // namespace motornet::fused
