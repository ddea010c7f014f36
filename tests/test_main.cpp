#include <gtest/gtest.h>
#include <torch/torch.h>

int main(int argc, char** argv) {
  // Small tensors: one thread avoids oversubscribing the 2-core CI machine when ctest runs tests in parallel.
  torch::set_num_threads(1);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
