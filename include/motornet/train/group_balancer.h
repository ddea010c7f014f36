#pragma once
// Sizes the replicate groups that train side by side by the speed their threads show.
//
// Each group trains on a thread of its own, and a batch ends when its slowest group ends. Cores do not always
// run at one speed: on a virtual machine a core whose physical neighbour is busy was ~45% slower than the
// other for minutes at a time (BENCHMARKS.md), and desktop CPUs mix fast and slow cores. Equal groups then wait
// for the slow core at every batch. The balancer watches each group's time per batch and moves one replicate at
// a time from the slowest group to another while that shortens the batch. Where a replicate trains
// changes none of its bits (tests/replicates_test.cpp), so only the time depends on these decisions.
#include <cstdint>
#include <vector>

namespace motornet {

struct GroupBalancerOptions {
  // Batches timed after each change before the next decision (the first after a change is left out: it packs
  // new weights and warms caches).
  int64_t settle_batches = 3;
  // A move must shorten the predicted batch by at least this fraction (keeps noise from moving replicates back
  // and forth).
  double min_gain = 0.05;
};

class GroupBalancer {
 public:
  // `counts`: replicates per group, consecutive groups of consecutive replicates (each at least 1).
  explicit GroupBalancer(std::vector<int64_t> counts, GroupBalancerOptions options = {});

  // One batch's wall-clock seconds per group; true when it changed the counts (the groups must be formed anew).
  bool record(const std::vector<double>& seconds);

  const std::vector<int64_t>& counts() const { return counts_; }

 private:
  std::vector<int64_t> counts_;
  GroupBalancerOptions options_;
  std::vector<double> total_seconds_;  // per group, over the batches timed since the last change
  int64_t batches_since_change_ = 0;
};

}  // namespace motornet
