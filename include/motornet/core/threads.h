#pragma once
// Thread counts for one process. Debian's LibTorch calls OpenBLAS (pthreads build), whose own worker pool
// competes with LibTorch's OpenMP pool: on motornet-bench W2 with 2 threads, a BLAS pool of 2 made a batch
// 145-794 ms instead of 47.7 ms with 1, and even at 1 LibTorch thread its idle workers spun in sched_yield
// (37% of the samples of a perf record). MotorNet's matrices are small, so BLAS runs on the calling thread.
#include <cstdint>
#include <functional>

namespace motornet {

// LibTorch's intra-op pool gets `threads` (>= 1); OpenBLAS, when it is the loaded BLAS, gets one thread.
void set_num_threads(int threads);

// The CPUs this process may run on (its affinity mask; at least 1).
int available_cores();

// The apps' thread count: OMP_NUM_THREADS when it is set to a positive number, else every available core.
// LibTorch's own default counts physical cores as its CPU library sees them, which on some virtual machines is
// one of two: there a ten-replicate run left a core idle and took 21 s where two threads took 15.
int default_num_threads();

// Runs task(0) .. task(count - 1) side by side on LibTorch's threads (in order on one thread), each task whole
// on one thread; the LibTorch parallel loops inside a task run on that thread. The first exception a task
// throws is rethrown here after all have ended.
void run_side_by_side(int64_t count, const std::function<void(int64_t)>& task);

}  // namespace motornet
