#include "control/numeric/row_major_gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

// This file is compiled with -ffp-contract=fast (CMakeLists.txt): each `acc += b * s` below must be one fused
// multiply-add on every instruction set that has one, or the bits would depend on the machine.
#define MOTORNET_INLINE inline __attribute__((always_inline))

namespace motornet::numeric {
namespace {

// W lanes of T in one vector register (GCC vector extensions: the same source becomes SSE2, AVX2 or AVX-512
// code in the functions compiled for each below).
template <typename T, int W>
struct Lanes {
  typedef T type __attribute__((vector_size(W * sizeof(T))));
};

// Unaligned loads, by reference: a vector passed by value would change the ABI of functions not compiled for it.
template <typename Vec, typename T>
MOTORNET_INLINE void load(Vec& v, const T* from) {
  std::memcpy(&v, from, sizeof v);
}

// op(A)'s element (i, p); the transposition is a template argument, out of the inner loop.
template <typename T, bool Transposed>
struct LeftOperand {
  const T* a;
  int64_t lda;
  MOTORNET_INLINE T at(int64_t i, int64_t p) const { return Transposed ? a[p * lda + i] : a[i * lda + p]; }
};

// Rows [i0, i0 + R) and vectors [j0, j0 + V W) of C, `columns` of which are real (the rest is padding of the
// packed B, computed and dropped). The accumulators stay in registers over the whole inner dimension.
template <typename T, int W, int R, int V, typename Left>
MOTORNET_INLINE void tile(const Left& a, const T* bp, int64_t ldbp, int64_t k, int64_t i0, int64_t j0,
                          int64_t columns, T alpha, T beta, T* c, int64_t ldc) {
  using Vec = typename Lanes<T, W>::type;
  Vec acc[R][V];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) acc[r][v] = Vec{};
  for (int64_t p = 0; p < k; ++p) {
    Vec b[V];
    for (int v = 0; v < V; ++v) load(b[v], bp + p * ldbp + j0 + v * W);
    for (int r = 0; r < R; ++r) {
      const T s = a.at(i0 + r, p);
      for (int v = 0; v < V; ++v) acc[r][v] += b[v] * s;
    }
  }
  for (int r = 0; r < R; ++r) {
    T* row = c + (i0 + r) * ldc + j0;
    for (int v = 0; v < V; ++v) {
      const int64_t lanes = std::min<int64_t>(W, columns - v * W);
      if (lanes <= 0) break;
      T* out = row + v * W;
      Vec result = acc[r][v] * alpha;
      if (lanes == W) {
        if (beta != T(0)) {
          Vec old;
          load(old, out);
          result += old * beta;
        }
        std::memcpy(out, &result, sizeof result);
      } else {
        // A partial vector goes through a full one, so its lanes get the very same operations.
        Vec old = {};
#pragma GCC unroll 16
        for (int l = 0; l < W; ++l)
          if (l < lanes && beta != T(0)) old[l] = out[l];
        result += old * beta;
#pragma GCC unroll 16
        for (int l = 0; l < W; ++l)
          if (l < lanes) out[l] = result[l];
      }
    }
  }
}

// Rows in tiles of 8 or 4 (the last ones one at a time), column blocks of two vectors (the last maybe one).
template <typename T, int W, typename Left>
MOTORNET_INLINE void tiles(const Left& left, int64_t m, int64_t n, int64_t k, T alpha, const T* bp, int64_t ldbp,
                           T beta, T* c, int64_t ldc) {
  // Two vectors per row: tiles of 4 rows (8 accumulators), 8 rows with AVX-512's 32 registers (16 accumulators:
  // faster than 4 rows on the fused GRU step's products; AVX2's 16 registers cannot hold them); one vector:
  // 8 rows. At least 8 chains of multiply-adds in flight, enough to hide their latency.
  constexpr int rows_of_two = W * sizeof(T) == 64 ? 8 : 4;
  for (int64_t j0 = 0; j0 < n; j0 += 2 * W) {
    const int64_t columns = std::min<int64_t>(2 * W, n - j0);
    int64_t i0 = 0;
    if (columns > W) {
      for (; i0 + rows_of_two <= m; i0 += rows_of_two)
        tile<T, W, rows_of_two, 2>(left, bp, ldbp, k, i0, j0, columns, alpha, beta, c, ldc);
      for (; i0 + 4 <= m; i0 += 4) tile<T, W, 4, 2>(left, bp, ldbp, k, i0, j0, columns, alpha, beta, c, ldc);
      for (; i0 < m; ++i0) tile<T, W, 1, 2>(left, bp, ldbp, k, i0, j0, columns, alpha, beta, c, ldc);
    } else {
      for (; i0 + 8 <= m; i0 += 8) tile<T, W, 8, 1>(left, bp, ldbp, k, i0, j0, columns, alpha, beta, c, ldc);
      for (; i0 + 4 <= m; i0 += 4) tile<T, W, 4, 1>(left, bp, ldbp, k, i0, j0, columns, alpha, beta, c, ldc);
      for (; i0 < m; ++i0) tile<T, W, 1, 1>(left, bp, ldbp, k, i0, j0, columns, alpha, beta, c, ldc);
    }
  }
}

// op(B) as k rows of `width` values: its n columns, then zeros.
template <typename T>
void pack_rows(bool trans_b, int64_t k, int64_t n, const T* b, int64_t ldb, int64_t width, T* out) {
  for (int64_t p = 0; p < k; ++p)
    for (int64_t j = n; j < width; ++j) out[p * width + j] = T(0);
  if (trans_b) {
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p) out[p * width + j] = b[j * ldb + p];
  } else {
    for (int64_t p = 0; p < k; ++p)
      for (int64_t j = 0; j < n; ++j) out[p * width + j] = b[p * ldb + j];
  }
}

// op(B) given as k rows of whole vectors (bp, row stride ldbp).
template <typename T, int W>
MOTORNET_INLINE void packed_product(bool trans_a, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                                    const T* bp, int64_t ldbp, T beta, T* c, int64_t ldc) {
  if (trans_a)
    tiles<T, W>(LeftOperand<T, true>{a, lda}, m, n, k, alpha, bp, ldbp, beta, c, ldc);
  else
    tiles<T, W>(LeftOperand<T, false>{a, lda}, m, n, k, alpha, bp, ldbp, beta, c, ldc);
}

// op(B) as it comes: used in place when its rows are already whole vectors, else packed first.
template <typename T, int W>
MOTORNET_INLINE void product(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                             int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  const int64_t width = (n + W - 1) / W * W;
  if (!trans_b && n == width) return packed_product<T, W>(trans_a, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  thread_local std::vector<T> packed;
  packed.resize(static_cast<size_t>(k * width));
  pack_rows(trans_b, k, n, b, ldb, width, packed.data());
  packed_product<T, W>(trans_a, m, n, k, alpha, a, lda, packed.data(), width, beta, c, ldc);
}

template <typename T>
using Product = void (*)(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*,
                         int64_t);
template <typename T>
using PackedProduct = void (*)(bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*,
                               int64_t);

// One copy of each product per instruction set, with its widest vectors (64, 32 and 16 bytes). SSE2 has no
// fused multiply-add: only there do the bits differ from the other two.
#define MOTORNET_PRODUCTS_FOR(isa, attribute, bytes)                                                              \
  template <typename T>                                                                                          \
  attribute void product_##isa(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a,           \
                               int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {               \
    product<T, bytes / sizeof(T)>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);                         \
  }                                                                                                              \
  template <typename T>                                                                                          \
  attribute void packed_product_##isa(bool ta, int64_t m, int64_t n, int64_t k, T alpha, const T* a,            \
                                      int64_t lda, const T* bp, int64_t ldbp, T beta, T* c, int64_t ldc) {       \
    packed_product<T, bytes / sizeof(T)>(ta, m, n, k, alpha, a, lda, bp, ldbp, beta, c, ldc);                    \
  }
MOTORNET_PRODUCTS_FOR(avx512, __attribute__((target("avx512f,avx512vl,avx2,fma"))), 64)
MOTORNET_PRODUCTS_FOR(avx2, __attribute__((target("avx2,fma"))), 32)
MOTORNET_PRODUCTS_FOR(sse2, , 16)
#undef MOTORNET_PRODUCTS_FOR

enum class Isa { avx512, avx2, sse2 };

Isa isa() {
  static const Isa chosen = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) return Isa::avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
    return Isa::sse2;
  }();
  return chosen;
}

}  // namespace

int64_t packed_width(int64_t n) { return (n + kPackedMultiple - 1) / kPackedMultiple * kPackedMultiple; }

template <typename T>
void pack_right(bool trans_b, int64_t k, int64_t n, const T* b, int64_t ldb, T* out) {
  pack_rows(trans_b, k, n, b, ldb, packed_width(n), out);
}

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  static const Product<T> chosen = isa() == Isa::avx512 ? product_avx512<T>
                                   : isa() == Isa::avx2 ? product_avx2<T>
                                                        : product_sse2<T>;
  chosen(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <typename T>
void gemm_packed(bool trans_a, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* packed_b,
                 T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  static const PackedProduct<T> chosen = isa() == Isa::avx512 ? packed_product_avx512<T>
                                         : isa() == Isa::avx2 ? packed_product_avx2<T>
                                                              : packed_product_sse2<T>;
  chosen(trans_a, m, n, k, alpha, a, lda, packed_b, packed_width(n), beta, c, ldc);
}

const char* gemm_isa() {
  switch (isa()) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    default: return "sse2";
  }
}

template <typename T>
void gemm_loops(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      T sum = 0;
      for (int64_t p = 0; p < k; ++p) sum += (trans_a ? a[p * lda + i] : a[i * lda + p]) * (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
      c[i * ldc + j] = alpha * sum + (beta == T(0) ? T(0) : beta * c[i * ldc + j]);
    }
  }
}

#define MOTORNET_INSTANTIATE(T)                                                                                   \
  template void pack_right<T>(bool, int64_t, int64_t, const T*, int64_t, T*);                                    \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*,   \
                        int64_t);                                                                                \
  template void gemm_packed<T>(bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, T, T*, int64_t); \
  template void gemm_loops<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, \
                              T*, int64_t);
MOTORNET_INSTANTIATE(float)
MOTORNET_INSTANTIATE(double)
#undef MOTORNET_INSTANTIATE

}  // namespace motornet::numeric
