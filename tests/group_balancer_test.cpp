// The replicate groups' balancer (train/group_balancer.h) on made-up timings: when it moves a replicate, which
// way, and when it leaves the groups alone.

#include <gtest/gtest.h>

#include <vector>

#include "motornet/core/error.h"
#include "motornet/train/group_balancer.h"

namespace motornet {
namespace {

using Sizes = std::vector<int64_t>;

// Feeds `batches` batches whose group times are `seconds_per_replicate[g]` times the group's replicates (plus a
// fixed cost per group); returns the batch indices at which the sizes changed.
std::vector<int> feed(GroupBalancer& balancer, const std::vector<double>& seconds_per_replicate, int batches,
                      double fixed = 0.0) {
  std::vector<int> changes;
  for (int b = 0; b < batches; ++b) {
    std::vector<double> seconds;
    for (size_t g = 0; g < seconds_per_replicate.size(); ++g)
      seconds.push_back(fixed + seconds_per_replicate[g] * static_cast<double>(balancer.counts()[g]));
    if (balancer.record(seconds)) changes.push_back(b);
  }
  return changes;
}

TEST(GroupBalancer, EqualThreadsKeepEqualGroups) {
  GroupBalancer balancer({5, 5});
  EXPECT_TRUE(feed(balancer, {1.0, 1.0}, 50).empty());
  EXPECT_EQ(balancer.counts(), (Sizes{5, 5}));
}

TEST(GroupBalancer, ASlowerThreadGivesReplicatesToTheFasterOneUntilTheBatchStopsShortening) {
  GroupBalancer balancer({5, 5});
  // The second thread 45% slower: 6 + 4 makes the batch max(6, 5.8) instead of 7.25; 7 + 3 would make it 7.
  const auto changes = feed(balancer, {1.0, 1.45}, 60);
  EXPECT_EQ(balancer.counts(), (Sizes{6, 4}));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_GE(changes[0], 3) << "decided before its settle batches were timed";
  // The other way round, from there: the first thread now the slow one.
  feed(balancer, {1.6, 1.0}, 60);
  EXPECT_EQ(balancer.counts(), (Sizes{4, 6}));
}

TEST(GroupBalancer, SmallDifferencesMoveNothing) {
  GroupBalancer balancer({5, 5});
  // 3% slower: moving a replicate would make the batch longer (6 x 1.0 > 5 x 1.03).
  EXPECT_TRUE(feed(balancer, {1.0, 1.03}, 60).empty());
  // A gain below min_gain moves nothing either: 20 + 20 at 1.0 and 1.07 would become 21 + 19 (21.4 -> 21.0,
  // 1.9% shorter), which the default 5% refuses and a 1% threshold takes.
  GroupBalancer cautious({20, 20});
  EXPECT_TRUE(feed(cautious, {1.0, 1.07}, 60).empty());
  GroupBalancer eager({20, 20}, GroupBalancerOptions{3, 0.01});
  feed(eager, {1.0, 1.07}, 60);
  EXPECT_EQ(eager.counts(), (Sizes{21, 19}));
}

TEST(GroupBalancer, NeverEmptiesAGroupAndMovesAcrossGroups) {
  GroupBalancer balancer({1, 1, 1});
  EXPECT_TRUE(feed(balancer, {1.0, 1.0, 5.0}, 40).empty()) << "each group has one replicate: nothing can move";
  GroupBalancer three({4, 4, 4});
  feed(three, {1.0, 1.0, 2.0}, 200);
  const auto& counts = three.counts();
  EXPECT_EQ(counts[0] + counts[1] + counts[2], 12);
  EXPECT_LT(counts[2], 4) << "the slow third thread kept all its replicates";
  for (auto c : counts) EXPECT_GE(c, 1);
  double slowest = 0.0;
  for (size_t g = 0; g < 3; ++g) slowest = std::max(slowest, (g == 2 ? 2.0 : 1.0) * static_cast<double>(counts[g]));
  // From 8 (4 + 4 + 4 x 2) to 5 (5 + 5 + 2 x 2): the third group's replicates reach the first, across the second.
  EXPECT_EQ(counts, (Sizes{5, 5, 2}));
  EXPECT_EQ(slowest, 5.0);
}

TEST(GroupBalancer, AFixedCostPerGroupIsNotMistakenForSpeed) {
  // Equal threads, unequal groups (5 + 4, as 9 replicates split): the larger group takes longer, but moving one
  // of its replicates only swaps which group is larger.
  GroupBalancer balancer({5, 4});
  EXPECT_TRUE(feed(balancer, {1.0, 1.0}, 60, /*fixed=*/2.0).empty());
}

TEST(GroupBalancer, RefusesBadInput) {
  EXPECT_THROW(GroupBalancer({}), InputError);
  EXPECT_THROW(GroupBalancer({3, 0}), InputError);
  EXPECT_THROW(GroupBalancer({3, 3}, GroupBalancerOptions{0, 0.05}), InputError);
  EXPECT_THROW(GroupBalancer({3, 3}, GroupBalancerOptions{3, 1.5}), InputError);
  GroupBalancer balancer({3, 3});
  EXPECT_THROW(balancer.record({1.0}), InputError);
}

}  // namespace
}  // namespace motornet
