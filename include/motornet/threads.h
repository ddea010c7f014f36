#pragma once
// Thread counts for one process: LibTorch's intra-op pool and the BLAS library's own pool. Debian's
// LibTorch calls OpenBLAS (pthreads build), whose worker threads spin and yield between the many small
// matrix products of a recurrent network: left at the core count they cost ~15% of a training batch even
// when torch runs on one thread (measured with perf on motornet-bench W1/W2).
namespace motornet {

// Sets both pools to `threads` (>= 1). The BLAS pool is set when the loaded BLAS is OpenBLAS; others keep
// their own setting (e.g. OPENBLAS_NUM_THREADS / OMP_NUM_THREADS).
void set_num_threads(int threads);

}  // namespace motornet
