// The per-thread tensor memory cache (core/tensor_memory.h): which blocks come back to whom, its limit, and
// that training with it changes no bit. Each test runs in a process of its own (gtest_discover_tests), so the
// allocator one installs is not seen by the others.

#include <gtest/gtest.h>
#include <c10/core/CPUAllocator.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstdlib>
#include <thread>

#include "motornet/core/error.h"
#include "motornet/core/tensor_memory.h"

namespace motornet {
namespace {

const void* data_of(const torch::Tensor& t) { return t.data_ptr(); }

TEST(TensorMemory, AFreedBlockComesBackToItsThreadForTheSameSize) {
  use_thread_cached_tensor_memory();
  release_this_thread_tensor_memory_cache();
  const void* first = nullptr;
  {
    auto t = torch::full({1000}, 7.0f);
    first = data_of(t);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % 64, 0u) << "LibTorch's CPU alignment";
  }
  const auto kept = this_thread_tensor_memory_cache();
  EXPECT_EQ(kept.blocks, 1);
  EXPECT_EQ(kept.bytes, 4032) << "1000 floats rounded up to the 64-byte alignment";
  auto other_size = torch::empty({2000});
  EXPECT_NE(data_of(other_size), first);
  auto same_size = torch::zeros({1000});  // and written as asked: the old values are gone
  EXPECT_EQ(data_of(same_size), first);
  EXPECT_EQ(this_thread_tensor_memory_cache().blocks, 0);
  EXPECT_EQ(same_size.abs().sum().item<float>(), 0.0f);
}

TEST(TensorMemory, OtherThreadsKeepTheirOwnBlocks) {
  use_thread_cached_tensor_memory();
  release_this_thread_tensor_memory_cache();
  const void* mine = nullptr;
  { mine = data_of(torch::empty({4096})); }
  ASSERT_EQ(this_thread_tensor_memory_cache().blocks, 1);
  const void* theirs = nullptr;
  int64_t their_blocks_after_free = -1;
  std::thread other([&] {
    {
      auto t = torch::empty({4096});
      theirs = data_of(t);
    }
    their_blocks_after_free = this_thread_tensor_memory_cache().blocks;
  });
  other.join();
  EXPECT_NE(theirs, mine) << "the other thread took this thread's block";
  EXPECT_EQ(their_blocks_after_free, 1);
  EXPECT_EQ(this_thread_tensor_memory_cache().blocks, 1);
  // A tensor made on one thread and freed on another goes to the one that frees it.
  auto made_here = torch::empty({512});
  std::thread freeing([t = std::move(made_here)]() mutable { t = torch::Tensor(); });
  freeing.join();
  EXPECT_EQ(this_thread_tensor_memory_cache().blocks, 1);
}

TEST(TensorMemory, KeepsNoMoreThanItsLimitAndStartsOverWhenFull) {
  use_thread_cached_tensor_memory(TensorMemoryOptions{/*max_cached_bytes_per_thread=*/64 * 1024});
  release_this_thread_tensor_memory_cache();
  { auto big = torch::empty({32 * 1024}); }  // 128 KiB: more than the whole limit, never kept
  EXPECT_EQ(this_thread_tensor_memory_cache().blocks, 0);
  {
    std::vector<torch::Tensor> small;
    for (int i = 0; i < 20; ++i) small.push_back(torch::empty({1024}));  // 4 KiB each, 80 KiB in all
  }
  const auto kept = this_thread_tensor_memory_cache();
  EXPECT_LE(kept.bytes, 64 * 1024);
  EXPECT_GT(kept.blocks, 0);
  release_this_thread_tensor_memory_cache();
  EXPECT_EQ(this_thread_tensor_memory_cache().bytes, 0);
  EXPECT_THROW(use_thread_cached_tensor_memory(TensorMemoryOptions{-1}), c10::Error);
}

TEST(TensorMemory, TensorsFromBeforeItWasInstalledAreFreedAsTheyWereMade) {
  const c10::Allocator* libtorch_own = c10::GetCPUAllocator();
  auto before = torch::rand({10000});
  const auto sum = before.sum().item<double>();
  use_thread_cached_tensor_memory();
  if (c10::GetCPUAllocator() == libtorch_own) GTEST_SKIP() << "installed by an earlier test of this process";
  EXPECT_EQ(before.sum().item<double>(), sum);
  release_this_thread_tensor_memory_cache();
  before = torch::Tensor();  // back to LibTorch's own allocator, not into the cache
  EXPECT_EQ(this_thread_tensor_memory_cache().blocks, 0);
}

TEST(TensorMemory, TheAppsLimitComesFromTheEnvironment) {
  ::unsetenv("MOTORNET_TENSOR_CACHE_MB");
  EXPECT_EQ(tensor_memory_options_from_environment().max_cached_bytes_per_thread,
            TensorMemoryOptions{}.max_cached_bytes_per_thread);
  ::setenv("MOTORNET_TENSOR_CACHE_MB", "64", 1);
  EXPECT_EQ(tensor_memory_options_from_environment().max_cached_bytes_per_thread, 64 * 1024 * 1024);
  ::setenv("MOTORNET_TENSOR_CACHE_MB", "0", 1);
  EXPECT_EQ(tensor_memory_options_from_environment().max_cached_bytes_per_thread, 0);
  for (const char* bad : {"-1", "1.5", "", "12MB", "99999999999999999999"}) {
    ::setenv("MOTORNET_TENSOR_CACHE_MB", bad, 1);
    try {
      tensor_memory_options_from_environment();
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InputError& error) {
      EXPECT_EQ(error.path(), "MOTORNET_TENSOR_CACHE_MB");
      EXPECT_NE(std::string(error.what()).find(std::string("got '") + bad + "'"), std::string::npos) << error.what();
    }
  }
  ::unsetenv("MOTORNET_TENSOR_CACHE_MB");
}

TEST(TensorMemory, ALimitOfZeroKeepsNothing) {
  use_thread_cached_tensor_memory(TensorMemoryOptions{0});
  release_this_thread_tensor_memory_cache();
  { auto t = torch::ones({256}); }
  EXPECT_EQ(this_thread_tensor_memory_cache().blocks, 0);
}

}  // namespace
}  // namespace motornet
