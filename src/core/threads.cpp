#include "motornet/core/threads.h"

#include <dlfcn.h>
#include <torch/torch.h>

#include <algorithm>

namespace motornet {

void set_num_threads(int threads) {
  torch::set_num_threads(std::max(threads, 1));
  // Looked up at run time: the BLAS behind LibTorch is chosen by Debian's alternatives, not at link time.
  using SetThreads = void (*)(int);
  if (auto set_blas_threads = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set_blas_threads(1);
}

}  // namespace motornet
