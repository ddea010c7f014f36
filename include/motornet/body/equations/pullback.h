#pragma once
// The backward of equations written over the number type (ops.h): evaluate them once with N dual inputs and
// contract their Jacobian with the gradients of the outputs. This is the one mechanism every fused model's
// vector-Jacobian product comes from; no model writes its derivatives by hand.

#include <array>
#include <cstdint>

#include "motornet/body/equations/dual.h"

// For the loops of a fused kernel over the muscles (or joints) of one row: every call inside is inlined, so the
// equations of one muscle become one straight block whose dual numbers stay in registers (a dual number's
// derivatives are a short vector: with AVX2 one instruction each), and the loop is compiled for AVX2 and for
// any x86-64, picked when the program loads. Measured on W2 (BENCHMARKS.md): without it the dual-number backward
// made a batch ~10 ms slower than the hand-derived one it replaced.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define MOTORNET_KERNEL_LOOP __attribute__((flatten, target_clones("avx2", "default")))
#elif defined(__GNUC__)
#define MOTORNET_KERNEL_LOOP __attribute__((flatten))
#else
#define MOTORNET_KERNEL_LOOP
#endif

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

// The same on a block of rows: lane l is the pullback of row l alone (a lane whose output gradient is zero takes
// nothing from that output, as the row would skip it).
template <int N, class Function>
void pullback(Function&& f, const std::array<RowLanes, N>& inputs, const RowLanes* grad_outputs, int64_t stride,
              std::array<RowLanes, N>& grad_inputs) {
  std::array<Dual<N, RowLanes>, N> x;
  for (int i = 0; i < N; ++i) x[i] = Dual<N, RowLanes>::input(inputs[i], i);
  const auto outputs = f(x);
  for (size_t o = 0; o < outputs.size(); ++o) {
    const RowLanes& g = grad_outputs[o * stride];
    const LaneMask used = g != RowLanes(0.0);
    if (!used.any()) continue;
    for (int i = 0; i < N; ++i) grad_inputs[i] = select(used, grad_inputs[i] + g * outputs[o].grad[i], grad_inputs[i]);
  }
}

}  // namespace motornet::equations
