#include "motornet/core/tensor_memory.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "motornet/core/error.h"
#include "motornet/core/parse_integer.h"

namespace motornet {

namespace {

// LibTorch's own CPU alignment (c10::gAlignment): vector loads of any width stay aligned.
constexpr size_t kAlignment = 64;
// Each block starts with a header holding its usable size, so the deleter knows which list it goes back to;
// the tensor's data follows it (and is the DataPtr's context too, so that raw frees work).
constexpr size_t kHeader = kAlignment;

std::atomic<int64_t> max_cached_bytes{0};

size_t& block_size(void* base) { return *static_cast<size_t*>(base); }
void* base_of(void* data) { return static_cast<char*>(data) - kHeader; }

// One thread's free blocks by usable size. Destroyed with its thread; a block freed after that (a tensor that
// outlives the thread that last held it) goes straight back to malloc.
struct ThreadCache {
  std::unordered_map<size_t, std::vector<void*>> free_blocks;
  int64_t bytes = 0;
  int64_t blocks = 0;

  void release() {
    for (auto& [size, list] : free_blocks)
      for (void* base : list) std::free(base);
    free_blocks.clear();
    bytes = blocks = 0;
  }
  ~ThreadCache() {
    release();
    alive = false;
  }
  static thread_local bool alive;
};
thread_local bool ThreadCache::alive = true;

ThreadCache* this_thread_cache() {
  if (!ThreadCache::alive) return nullptr;
  static thread_local ThreadCache cache;
  return ThreadCache::alive ? &cache : nullptr;
}

void free_block(void* data) {
  if (!data) return;
  void* base = base_of(data);
  ThreadCache* cache = this_thread_cache();
  const auto size = static_cast<int64_t>(block_size(base));
  const int64_t limit = max_cached_bytes.load(std::memory_order_relaxed);
  if (!cache || size > limit) {
    std::free(base);
    return;
  }
  // Full: the blocks kept are of sizes this thread has stopped asking for (or its batches outgrew the limit), so
  // the cache starts over from the sizes freed now.
  if (cache->bytes + size > limit) cache->release();
  cache->free_blocks[static_cast<size_t>(size)].push_back(base);
  cache->bytes += size;
  cache->blocks += 1;
}

class ThreadCachedCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) const override {
    if (n == 0) return {nullptr, nullptr, &free_block, c10::Device(c10::DeviceType::CPU)};
    const size_t size = (n + kAlignment - 1) / kAlignment * kAlignment;
    void* base = nullptr;
    if (ThreadCache* cache = this_thread_cache()) {
      auto found = cache->free_blocks.find(size);
      if (found != cache->free_blocks.end() && !found->second.empty()) {
        base = found->second.back();
        found->second.pop_back();
        cache->bytes -= static_cast<int64_t>(size);
        cache->blocks -= 1;
      }
    }
    if (!base) {
      if (posix_memalign(&base, kAlignment, size + kHeader) != 0) base = nullptr;
      TORCH_CHECK(base, "tensor memory: cannot allocate ", n, " bytes (malloc failed: out of memory?)");
      block_size(base) = size;
    }
    void* data = static_cast<char*>(base) + kHeader;
    return {data, data, &free_block, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &free_block; }
};

}  // namespace

void use_thread_cached_tensor_memory(const TensorMemoryOptions& options) {
  TORCH_CHECK(options.max_cached_bytes_per_thread >= 0, "tensor memory: max_cached_bytes_per_thread must be >= 0, got ",
              options.max_cached_bytes_per_thread);
  max_cached_bytes.store(options.max_cached_bytes_per_thread);
  static ThreadCachedCpuAllocator allocator;  // never destroyed before the tensors that point at its deleter
  static std::once_flag installed;
  std::call_once(installed, [] { c10::SetCPUAllocator(&allocator, /*priority=*/1); });
}

TensorMemoryOptions tensor_memory_options_from_environment() {
  TensorMemoryOptions options;
  const char* text = std::getenv("MOTORNET_TENSOR_CACHE_MB");
  if (!text) return options;
  const auto mib = parse_integer(text);
  constexpr int64_t kMostMiB = int64_t{1} << 40;  // far beyond any machine, and no overflow in bytes
  require(mib && *mib >= 0 && *mib <= kMostMiB, "MOTORNET_TENSOR_CACHE_MB",
          std::string("must be a whole number of MiB >= 0 (0: keep nothing), got '") + text + "'");
  options.max_cached_bytes_per_thread = *mib * 1024 * 1024;
  return options;
}

TensorMemoryCacheState this_thread_tensor_memory_cache() {
  const ThreadCache* cache = this_thread_cache();
  return cache ? TensorMemoryCacheState{cache->bytes, cache->blocks} : TensorMemoryCacheState{};
}

void release_this_thread_tensor_memory_cache() {
  if (ThreadCache* cache = this_thread_cache()) cache->release();
}

}  // namespace motornet
