#pragma once
// The backward of equations written over the number type (ops.h): evaluate them once with N dual inputs and
// contract their Jacobian with the gradients of the outputs. This is the one mechanism every fused model's
// vector-Jacobian product comes from; no model writes its derivatives by hand.

#include <array>
#include <cstdint>

#include "motornet/body/equations/dual.h"

namespace motornet::equations {

// grad_inputs[i] += sum_o grad_outputs[o * stride] * d f_o / d x_i at `inputs`, for a function
// f(const std::array<T, N>&) -> std::array<T, K> generic in the number type T.
template <int N, class Function>
void pullback(Function&& f, const std::array<double, N>& inputs, const double* grad_outputs, int64_t stride,
              std::array<double, N>& grad_inputs) {
  std::array<Dual<N>, N> x;
  for (int i = 0; i < N; ++i) x[i] = Dual<N>::input(inputs[i], i);
  const auto outputs = f(x);
  for (size_t o = 0; o < outputs.size(); ++o) {
    const double g = grad_outputs[o * stride];
    if (g == 0.0) continue;  // most outputs of a step feed nothing but the next state's few rows
    for (int i = 0; i < N; ++i) grad_inputs[i] += g * outputs[o].grad[i];
  }
}

}  // namespace motornet::equations
