#include "motornet/train/group_balancer.h"

#include <algorithm>
#include <utility>

#include "motornet/core/error.h"

namespace motornet {

GroupBalancer::GroupBalancer(std::vector<int64_t> counts, GroupBalancerOptions options)
    : counts_(std::move(counts)), options_(options), total_seconds_(counts_.size(), 0.0) {
  require(!counts_.empty(), "training.replicate_groups", "a group balancer needs at least one group");
  for (auto count : counts_) require(count >= 1, "training.replicate_groups", "every group needs a replicate");
  require(options_.settle_batches >= 1, "settle_batches", "must be at least 1");
  require(options_.min_gain >= 0.0 && options_.min_gain < 1.0, "min_gain", "must be in [0, 1)");
}

bool GroupBalancer::record(const std::vector<double>& seconds) {
  require(seconds.size() == counts_.size(), "training.replicate_groups", "one time per group");
  ++batches_since_change_;
  if (batches_since_change_ == 1) return false;  // the batch right after a change (or the first) is not typical
  for (size_t g = 0; g < seconds.size(); ++g) total_seconds_[g] += seconds[g];
  if (batches_since_change_ <= options_.settle_batches || counts_.size() < 2) return false;

  // The mean time of each group, and the one move that shortens the batch (the slowest group's time) most. A
  // group's time is taken to scale with its replicates. Part of it is a fixed cost per group, so this promises
  // the giving group a little more than it gains and the taking group a little more than it pays; min_gain
  // covers the difference (a 5 + 4 split on equal cores stays put: tests/group_balancer_test.cpp). A replicate
  // can go to any group: the groups between pass one along.
  const double timed = static_cast<double>(batches_since_change_ - 1);
  const size_t G = counts_.size();
  std::vector<double> mean(G);
  for (size_t g = 0; g < G; ++g) mean[g] = total_seconds_[g] / timed;
  const double now = *std::max_element(mean.begin(), mean.end());
  size_t best_from = 0, best_to = 0;
  double best_gain = 0.0;
  for (size_t from = 0; from < G; ++from) {
    if (counts_[from] < 2) continue;
    for (size_t to = 0; to < G; ++to) {
      if (to == from) continue;
      double after = 0.0;
      for (size_t g = 0; g < G; ++g) {
        const double n = static_cast<double>(counts_[g]);
        const double moved = g == from ? n - 1 : (g == to ? n + 1 : n);
        after = std::max(after, mean[g] * moved / n);
      }
      const double gain = (now - after) / now;
      if (gain > best_gain) best_gain = gain, best_from = from, best_to = to;
    }
  }
  if (best_gain < options_.min_gain || best_gain <= 0.0) {
    // Keep a window of recent batches only, so that a core that slows down later is noticed.
    if (batches_since_change_ > 4 * options_.settle_batches) {
      std::fill(total_seconds_.begin(), total_seconds_.end(), 0.0);
      batches_since_change_ = 1;
    }
    return false;
  }
  --counts_[best_from];
  ++counts_[best_to];
  std::fill(total_seconds_.begin(), total_seconds_.end(), 0.0);
  batches_since_change_ = 0;
  return true;
}

}  // namespace motornet
