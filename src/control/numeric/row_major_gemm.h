#pragma once
// Matrix products on raw row-major arrays, by register tiles (internal). The fused policy step multiplies
// matrices of a few dozen rows and columns (W1: 32 x 96 x 12) a hundred times per episode. Through ATen each
// product would cost a dispatch, an allocation and an autograd check; through a BLAS (OpenBLAS, LibTorch's) it
// cost more instructions in set-up than in arithmetic: both operands packed into a buffer taken under a
// process-wide lock, which replicate groups running side by side also queued for. Here each tile of C stays in
// vector registers over the whole inner dimension, and only op(B) is ever packed: by the caller once for a
// whole episode (the policy's weights: pack_right and gemm_packed), or per call when op(B) is transposed or its
// rows are not whole vectors.
//
// Every element of C is the same chain of fused multiply-adds over p = 0 .. k-1, whatever tile, row count or
// vector width computed it: a replicate's rows have the same bits in a stacked product as alone, and AVX-512
// and AVX2 machines agree (the code for each is chosen at run time; SSE2-only CPUs have no fused multiply-add).
#include <cstdint>

namespace motornet::numeric {

// C[m x n] = alpha * op(A) * op(B) + beta * C, every matrix row-major with the given leading dimension;
// op(A) is m x k (A stored k x m when trans_a), op(B) is k x n (B stored n x k when trans_b). beta == 0 never
// reads C.
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc);

// Packed rows are zero-padded to a multiple of this many values: whole vectors on every instruction set.
constexpr int64_t kPackedMultiple = 16;
// The row length of a packed op(B) with n columns.
int64_t packed_width(int64_t n);

// Writes op(B) (k x n, as gemm reads it) to `out` as k rows of packed_width(n) values.
template <typename T>
void pack_right(bool trans_b, int64_t k, int64_t n, const T* b, int64_t ldb, T* out);

// gemm with op(B) already packed by pack_right: the same bits as gemm.
template <typename T>
void gemm_packed(bool trans_a, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* packed_b,
                 T beta, T* c, int64_t ldc);

// The instruction set the products run with on this CPU: "avx512", "avx2" or "sse2".
const char* gemm_isa();

// The same product by plain loops: the test oracle.
template <typename T>
void gemm_loops(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

}  // namespace motornet::numeric
