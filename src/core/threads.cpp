#include "motornet/core/threads.h"

#include <dlfcn.h>
#include <sched.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace motornet {

void set_num_threads(int threads) {
  torch::set_num_threads(std::max(threads, 1));
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

}  // namespace motornet
