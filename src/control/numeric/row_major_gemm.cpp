#include "control/numeric/row_major_gemm.h"

#include <dlfcn.h>

namespace motornet::numeric {
namespace {

// The Fortran BLAS interface every BLAS library exports (column-major, arguments by pointer).
template <typename T>
using FortranGemm = void (*)(const char* trans_a, const char* trans_b, const int* m, const int* n, const int* k,
                             const T* alpha, const T* a, const int* lda, const T* b, const int* ldb, const T* beta, T* c,
                             const int* ldc);

// Looked up at run time, like threads.cpp's OpenBLAS switch: the library behind LibTorch is picked by Debian's
// alternatives, and linking one ourselves could load a second, different BLAS.
template <typename T>
FortranGemm<T> fortran_gemm() {
  static const auto function =
      reinterpret_cast<FortranGemm<T>>(dlsym(RTLD_DEFAULT, sizeof(T) == sizeof(float) ? "sgemm_" : "dgemm_"));
  return function;
}

}  // namespace

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

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  const auto blas = fortran_gemm<T>();
  if (!blas) return gemm_loops(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  // A row-major matrix is its transpose in column-major order, so C^T = op(B)^T op(A)^T is the column-major call
  // with the operands swapped. Leading dimensions of at least 1, as BLAS demands even for empty operands.
  const char ta = trans_a ? 'T' : 'N', tb = trans_b ? 'T' : 'N';
  const int mm = static_cast<int>(m), nn = static_cast<int>(n), kk = static_cast<int>(k);
  const int la = static_cast<int>(lda > 0 ? lda : 1), lb = static_cast<int>(ldb > 0 ? ldb : 1),
            lc = static_cast<int>(ldc > 0 ? ldc : 1);
  blas(&tb, &ta, &nn, &mm, &kk, &alpha, b, &lb, a, &la, &beta, c, &lc);
}

bool has_blas() { return fortran_gemm<float>() && fortran_gemm<double>(); }

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);
template void gemm_loops<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                                int64_t, float, float*, int64_t);
template void gemm_loops<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                                 int64_t, double, double*, int64_t);

}  // namespace motornet::numeric
