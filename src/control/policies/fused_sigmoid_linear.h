#pragma once
// sigmoid(x W^T + b) as one autograd node (internal): the recurrent policies' readout, which op by op costs
// three nodes per time step (transpose, addmm, sigmoid).
#include <torch/torch.h>

namespace motornet {

torch::Tensor fused_sigmoid_linear(const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias);

}  // namespace motornet
