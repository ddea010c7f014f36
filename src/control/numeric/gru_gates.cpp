#include "control/numeric/gru_gates.h"

#include "control/numeric/activations.h"

namespace motornet::numeric {

namespace {

// One row; restrict-qualified so the compiler vectorises without runtime overlap checks (the arrays never alias).
template <typename T>
inline void gru_row_forward(int64_t H, const T* __restrict gi, const T* __restrict gh, const T* __restrict h,
                            T* __restrict r, T* __restrict z, T* __restrict n, T* __restrict hn, T* __restrict out) {
  for (int64_t j = 0; j < H; ++j) {
    r[j] = sigmoid(gi[j] + gh[j]);
    z[j] = sigmoid(gi[H + j] + gh[H + j]);
    hn[j] = gh[2 * H + j];
    n[j] = tanh(gi[2 * H + j] + r[j] * hn[j]);
    out[j] = n[j] + z[j] * (h[j] - n[j]);
  }
}

template <typename T>
inline void gru_row_backward(int64_t H, const T* __restrict g, const T* __restrict r, const T* __restrict z,
                             const T* __restrict n, const T* __restrict hn, const T* __restrict h, T* __restrict dgi,
                             T* __restrict dgh) {
  for (int64_t j = 0; j < H; ++j) {
    const T grad_n = g[j] * (T(1) - z[j]) * (T(1) - n[j] * n[j]);  // through tanh
    const T grad_z = g[j] * (h[j] - n[j]) * z[j] * (T(1) - z[j]);
    const T grad_r = grad_n * hn[j] * r[j] * (T(1) - r[j]);
    dgi[j] = dgh[j] = grad_r;
    dgi[H + j] = dgh[H + j] = grad_z;
    dgi[2 * H + j] = grad_n;
    dgh[2 * H + j] = grad_n * r[j];  // gh_n enters multiplied by r
  }
}

}  // namespace

// Compiled three times, for AVX-512, AVX2 and the baseline, and picked at load time by the CPU (GCC's function
// multi-versioning): 16 or 8 floats per instruction where the CPU has them, a correct program where it does not.
// Without fused multiply-adds (-ffp-contract=off in CMakeLists.txt), so all versions round alike.
#define MOTORNET_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

template <typename T>
MOTORNET_VECTOR_CLONES void gru_gates_forward(int64_t B, int64_t H, const T* gi, const T* gh, const T* h, const T* noise, T* gates, T* next) {
  for (int64_t b = 0; b < B; ++b) {
    T* r = gates + b * 4 * H;
    T* out = next + b * H;
    gru_row_forward(H, gi + b * 3 * H, gh + b * 3 * H, h + b * H, r, r + H, r + 2 * H, r + 3 * H, out);
    if (noise)
      for (int64_t j = 0; j < H; ++j) out[j] += noise[b * H + j];
  }
}

template <typename T>
MOTORNET_VECTOR_CLONES void gru_gates_backward(int64_t B, int64_t H, const T* g, const T* gates, const T* h, T* dgi, T* dgh, T* grad_h) {
  for (int64_t b = 0; b < B; ++b) {
    const T *r = gates + b * 4 * H, *g_b = g + b * H;
    gru_row_backward(H, g_b, r, r + H, r + 2 * H, r + 3 * H, h + b * H, dgi + b * 3 * H, dgh + b * 3 * H);
    if (grad_h)
      for (int64_t j = 0; j < H; ++j) grad_h[b * H + j] = g_b[j] * r[H + j];  // g * z
  }
}

template <typename T>
MOTORNET_VECTOR_CLONES void sigmoid_in_place(T* values, int64_t count) {
  for (int64_t i = 0; i < count; ++i) values[i] = sigmoid(values[i]);
}

template <typename T>
MOTORNET_VECTOR_CLONES void sigmoid_backward(const T* grad, const T* output, T* grad_pre, int64_t count) {
  for (int64_t i = 0; i < count; ++i) grad_pre[i] = grad[i] * output[i] * (T(1) - output[i]);
}

// Each column's sum runs over the rows in order whatever the vector width, so every version gives the same bits.
template <typename T>
MOTORNET_VECTOR_CLONES void add_column_sums(T* sums, const T* matrix, int64_t rows, int64_t width) {
  for (int64_t b = 0; b < rows; ++b)
    for (int64_t j = 0; j < width; ++j) sums[j] += matrix[b * width + j];
}

#define MOTORNET_GRU_GATES(T)                                                                                     \
  template void gru_gates_forward<T>(int64_t, int64_t, const T*, const T*, const T*, const T*, T*, T*);          \
  template void gru_gates_backward<T>(int64_t, int64_t, const T*, const T*, const T*, T*, T*, T*);               \
  template void sigmoid_in_place<T>(T*, int64_t);                                                                \
  template void sigmoid_backward<T>(const T*, const T*, T*, int64_t);                                            \
  template void add_column_sums<T>(T*, const T*, int64_t, int64_t);
MOTORNET_GRU_GATES(float)
MOTORNET_GRU_GATES(double)
#undef MOTORNET_GRU_GATES

}  // namespace motornet::numeric
