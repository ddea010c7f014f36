#pragma once
// Tensor memory kept by the thread that freed it, for that thread's next tensor of the same size.
//
// A training batch allocates the same tensors in the same sizes every time: each step's outputs and the values
// its autograd node saves (tens of MB for ten W1 replicates), all freed together when the backward ends. Through
// malloc, that much memory overflows the allocator's per-thread cache (tcmalloc's is 4 MB) at every batch and
// travels through its shared free lists, where the threads of replicate groups side by side take turns at
// their locks. Kept per thread and exact size instead, a batch's tensors come back to the thread that uses
// them, without a lock, already in its caches' reach.
#include <cstddef>
#include <cstdint>

namespace motornet {

struct TensorMemoryOptions {
  // Most bytes one thread keeps for reuse; a freed tensor beyond that goes back to malloc. A batch's tensors are
  // reused by the next batch, so a thread keeps about one batch's worth (plus a validation batch's, whose sizes
  // differ) and rarely the whole limit.
  int64_t max_cached_bytes_per_thread = int64_t{1} << 30;
};

// The apps' options: MOTORNET_TENSOR_CACHE_MB, when set, is the limit per thread in MiB (0 keeps nothing, so
// every tensor goes back to malloc); else the default. An InputError names the variable when it is not a whole
// number >= 0.
TensorMemoryOptions tensor_memory_options_from_environment();

// Makes LibTorch's CPU tensors take their memory through the per-thread cache (once per process; later calls
// change the options only). Tensors that exist already are unaffected and freed as they were allocated.
void use_thread_cached_tensor_memory(const TensorMemoryOptions& options = {});

// What the calling thread's cache holds now, in bytes and blocks (0 when the cache is not in use).
struct TensorMemoryCacheState {
  int64_t bytes = 0;
  int64_t blocks = 0;
};
TensorMemoryCacheState this_thread_tensor_memory_cache();

// Gives everything the calling thread's cache holds back to malloc.
void release_this_thread_tensor_memory_cache();

}  // namespace motornet
