#pragma once
// Matrix products on raw row-major arrays, straight into the BLAS that LibTorch itself uses (internal).
// The fused policy step multiplies matrices of a few dozen rows a hundred times per episode; through ATen
// each product costs a dispatch, an allocation and an autograd check that outweigh the arithmetic.
#include <cstdint>

namespace motornet::numeric {

// C[m x n] = alpha * op(A) * op(B) + beta * C, every matrix row-major with the given leading dimension;
// op(A) is m x k (A stored k x m when trans_a), op(B) is k x n (B stored n x k when trans_b).
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc);

// The same product by plain loops: what gemm falls back to without a BLAS, and its test oracle.
template <typename T>
void gemm_loops(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// Whether gemm found a BLAS in the process (LibTorch's CPU build links one).
bool has_blas();

}  // namespace motornet::numeric
