#pragma once
// The elementwise part of a GRU step and of the sigmoid readout, on raw row-major arrays (internal, torch-free).
// This file is compiled with -fno-trapping-math, which lets the compiler turn the clamps and selects of the
// float32 activations into vector blends and so vectorise these loops (see activations.h); nothing here relies on
// floating-point exceptions.
#include <cstdint>

namespace motornet::numeric {

// Per row b, from gi = x W_ih^T + b_ih and gh = h W_hh^T + b_hh ([B, 3H] in (r, z, n) order):
// r = s(gi_r + gh_r), z = s(gi_z + gh_z), n = tanh(gi_n + r * gh_n), next = n + z (h - n) + noise.
// gates [B, 4H] keeps (r, z, n, gh_n) for the backward; noise may be null.
template <typename T>
void gru_gates_forward(int64_t B, int64_t H, const T* gi, const T* gh, const T* h, const T* noise, T* gates, T* next);

// From g = dL/dnext [B, H]: dgi and dgh [B, 3H] (the gradients of the two products' outputs) and, when grad_h
// is not null, the direct part of dL/dh (g * z; the product through W_hh is added by the caller).
template <typename T>
void gru_gates_backward(int64_t B, int64_t H, const T* g, const T* gates, const T* h, T* dgi, T* dgh, T* grad_h);

// values[i] = sigmoid(values[i]).
template <typename T>
void sigmoid_in_place(T* values, int64_t count);

// grad_pre[i] = grad[i] * s (1 - s) with s = output[i]: through the sigmoid whose output is given.
template <typename T>
void sigmoid_backward(const T* grad, const T* output, T* grad_pre, int64_t count);

// sums[j] += sum over rows of matrix[b, j].
template <typename T>
void add_column_sums(T* sums, const T* matrix, int64_t rows, int64_t width);

}  // namespace motornet::numeric
