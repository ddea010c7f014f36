#include "motornet/core/threads.h"

#include <dlfcn.h>
#include <sched.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace motornet {

void set_num_threads(int threads) {
  at::set_num_threads(std::max(threads, 1));
  // Looked up at run time: the BLAS behind LibTorch is chosen by Debian's alternatives, not at link time.
  using SetThreads = void (*)(int);
  if (auto set_blas_threads = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set_blas_threads(1);
}

int available_cores() {
  cpu_set_t mask;
  if (sched_getaffinity(0, sizeof mask, &mask) == 0) return std::max(CPU_COUNT(&mask), 1);
  return std::max(static_cast<int>(std::thread::hardware_concurrency()), 1);
}

int default_num_threads() {
  if (const char* text = std::getenv("OMP_NUM_THREADS")) {
    char* end = nullptr;
    const long threads = std::strtol(text, &end, 10);
    if (end != text && *end == '\0' && threads > 0) return static_cast<int>(threads);
  }
  return available_cores();
}

void run_side_by_side(int64_t count, const std::function<void(int64_t)>& task) {
  // This file is compiled with OpenMP (CMakeLists.txt): at::parallel_for is an OpenMP loop only in such files.
  at::parallel_for(0, count, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) task(i);
  });
}

}  // namespace motornet
