// Replicates and data-parallel shards inside one process: row streams, sharded environments, the vectorised
// replicate policies (values, gradients, hidden noise) and the replicate Trainer against single runs.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

namespace fs = std::filesystem;

std::vector<torch::Generator> generators(std::vector<uint64_t> seeds) {
  std::vector<torch::Generator> result;
  for (auto seed : seeds) result.push_back(at::detail::createCPUGenerator(seed));
  return result;
}

TEST(RowStreams, ShardsJoinToTheWholeBatchAndBlocksFollowTheirStreams) {
  // Unsharded, two streams: block k is stream k's own draw.
  RowStreams two(generators({5, 6}));
  auto drawn = two.normal(2 * 3, {4}, torch::kFloat64);
  auto alone5 = torch::randn({3, 4}, at::detail::createCPUGenerator(5), torch::kFloat64);
  auto alone6 = torch::randn({3, 4}, at::detail::createCPUGenerator(6), torch::kFloat64);
  EXPECT_TRUE(torch::equal(drawn, torch::cat({alone5, alone6})));
  // Two shards of the same streams hold halves of every block, in order.
  RowStreams first(generators({5, 6}), Shard{0, 3}), second(generators({5, 6}), Shard{1, 3}),
      third(generators({5, 6}), Shard{2, 3});
  auto a = first.normal(2, {4}, torch::kFloat64), b = second.normal(2, {4}, torch::kFloat64),
       c = third.normal(2, {4}, torch::kFloat64);
  EXPECT_TRUE(torch::equal(torch::cat({a[0], b[0], c[0]}).view({3, 4}), alone5));
  EXPECT_TRUE(torch::equal(torch::cat({a[1], b[1], c[1]}).view({3, 4}), alone6));
  EXPECT_EQ(first.local_rows(6), 4);
  EXPECT_THROW(first.local_rows(4), InputError);  // 4 trials do not split over 3 processes
  EXPECT_THROW(RowStreams(generators({1}), Shard{2, 2}), InputError);
}

Environment noisy_environment(uint64_t seed) {
  torch::manual_seed(0);
  auto task = std::make_shared<RandomTargetReach>();
  task->add_field(std::make_shared<CurlField>(5.0, ForceFieldOptions().fraction(0.5)));
  return Environment(make_rigid_tendon_arm26(), task,
                     EnvironmentOptions().max_ep_duration(0.05).vision_noise(0.01).proprioception_noise(0.02)
                         .action_noise(0.05).obs_noise({0.01}).vision_delay(0.02).seed(seed));
}

TEST(ShardedEnvironment, ShardsReproduceTheWholeBatchStepForStep) {
  const int64_t B = 6;
  auto whole = noisy_environment(3);
  std::vector<Environment> shards;
  for (int64_t rank = 0; rank < 2; ++rank) {
    shards.push_back(noisy_environment(0));
    shards.back()->set_streams(RowStreams(generators({3}), Shard{rank, 2}));
  }
  auto expected = whole->reset(ResetOptions().batch_size(B)).observation;
  std::vector<torch::Tensor> parts;
  for (auto& shard : shards) parts.push_back(shard->reset(ResetOptions().batch_size(B)).observation);
  EXPECT_EQ(parts[0].size(0), B / 2);
  EXPECT_TRUE(torch::equal(torch::cat(parts), expected)) << "observation after reset";
  auto action = torch::rand({B, whole->effector()->n_muscles()}, at::detail::createCPUGenerator(9));
  for (int t = 0; t < whole->n_steps(); ++t) {
    expected = whole->step(action).observation;
    parts.clear();
    for (int64_t rank = 0; rank < 2; ++rank) parts.push_back(shards[rank]->step(action.narrow(0, rank * B / 2, B / 2)).observation);
    EXPECT_WITHIN(torch::cat(parts), expected, 1e-6, 1e-6, "observation at step " << t + 1);
  }
  EXPECT_THROW(shards[0]->reset(ResetOptions().batch_size(5)), InputError);  // an odd batch over 2 processes
}

Policy build_policy(const std::string& yaml, uint64_t seed) {
  torch::manual_seed(seed);
  return policy_from_config(ConfigNode::parse(yaml), 7, 5);
}

// A built-in policy type that refuses the vectorised path, to exercise the replicate-by-replicate fallback.
class UnvectorisedGru : public RecurrentPolicyImpl {
 public:
  using RecurrentPolicyImpl::RecurrentPolicyImpl;
  bool has_stacked_forward() const override { return false; }
};

class ReplicatedPolicies : public ::testing::TestWithParam<std::string> {};

TEST_P(ReplicatedPolicies, MatchEachReplicateAloneInValuesGradientsAndNoise) {
  const int64_t K = 3, B = 4;
  std::vector<Policy> replicas, alone;
  for (int64_t k = 0; k < K; ++k) {
    replicas.push_back(build_policy(GetParam(), 10 + k));
    alone.push_back(build_policy(GetParam(), 10 + k));
    replicas.back()->set_hidden_noise(0.05, RowStreams(generators({100 + static_cast<uint64_t>(k)})));
    alone.back()->set_hidden_noise(0.05, at::detail::createCPUGenerator(100 + k));
  }
  ReplicatedPolicy together(replicas);
  EXPECT_TRUE(together->vectorised());
  auto observation = torch::rand({K * B, 7}, at::detail::createCPUGenerator(1));
  auto hidden = together->initial_hidden(K * B);
  together->start_episode();
  torch::Tensor loss_together, loss_alone;
  std::vector<torch::Tensor> hidden_alone(K);
  for (int64_t k = 0; k < K; ++k) hidden_alone[k] = alone[k]->initial_hidden(B);
  for (int step = 0; step < 3; ++step) {
    auto [action, next] = together->forward(observation, hidden);
    hidden = next;
    std::vector<torch::Tensor> actions;
    for (int64_t k = 0; k < K; ++k) {
      auto [a, h] = alone[k]->forward(observation.narrow(0, k * B, B), hidden_alone[k]);
      hidden_alone[k] = h;
      actions.push_back(a);
    }
    EXPECT_WITHIN(action, torch::cat(actions), 1e-6, 1e-5, "actions at step " << step);
    loss_together = (loss_together.defined() ? loss_together : torch::zeros({})) + action.pow(2).sum() + hidden.sum();
    loss_alone = (loss_alone.defined() ? loss_alone : torch::zeros({})) + torch::cat(actions).pow(2).sum() +
                 torch::cat(hidden_alone).sum();
  }
  loss_together.backward();
  loss_alone.backward();
  for (int64_t k = 0; k < K; ++k) {
    auto mine = replicas[k]->named_parameters(), theirs = alone[k]->named_parameters();
    for (const auto& item : mine)
      EXPECT_WITHIN(item.value().grad(), theirs[item.key()].grad(), 1e-5, 1e-4, "gradient of " << item.key() << " of replicate " << k);
  }
}

INSTANTIATE_TEST_SUITE_P(Types, ReplicatedPolicies,
                         ::testing::Values("{type: GRU, hidden_size: 6}", "{type: GRU, hidden_size: 6, kernels: op-by-op}",
                                           "{type: GRU, hidden_size: 6, n_layers: 2}", "{type: LSTM, hidden_size: 5}",
                                           "{type: RNN, hidden_size: 6, nonlinearity: relu}",
                                           "{type: RNN, hidden_size: 6}", "{type: MLP, hidden_sizes: [8, 6]}"));

TEST(ReplicatedPolicy, OneLayerGruReplicasStepAsOneFusedNode) {
  // All K replicas' GRU steps in one node (each block of rows with its own weights); `kernels: op-by-op` keeps
  // the batched ATen cell.
  for (const char* kernels : {"auto", "op-by-op"}) {
    std::vector<Policy> replicas;
    for (int64_t k = 0; k < 3; ++k)
      replicas.push_back(build_policy(fmt::format("{{type: GRU, hidden_size: 6, kernels: {}}}", kernels), 10 + k));
    ReplicatedPolicy together(replicas);
    together->start_episode();
    auto [action, hidden] = together->forward(torch::rand({12, 7}), together->initial_hidden(12));
    ASSERT_TRUE(action.grad_fn());
    const bool fused = action.grad_fn()->name().find("GruPolicyStep") != std::string::npos;
    EXPECT_EQ(fused, std::string(kernels) == "auto") << kernels << ": " << action.grad_fn()->name();
  }
}

TEST(ReplicatedPolicy, FusedReplicasGiveTheSameBitsOnOneThreadAsOnSeveral) {
  // With more than one thread the replicas' blocks of the fused GRU step (forward and backward) run side by side;
  // each block touches only its own rows and its own slices of the weight gradients, so the bits cannot depend
  // on how the replicas were shared out.
  const int previous_threads = torch::get_num_threads();
  auto run = [](int threads) {
    torch::set_num_threads(threads);
    std::vector<Policy> replicas;
    for (int64_t k = 0; k < 5; ++k)
      replicas.push_back(build_policy("{type: GRU, hidden_size: 6, hidden_noise: 0.1}", 20 + k));
    ReplicatedPolicy together(replicas);
    together->train();
    torch::manual_seed(7);  // the hidden noise's draws
    together->start_episode();
    auto observations = torch::rand({4, 15, 7}, at::detail::createCPUGenerator(3)).requires_grad_();
    auto hidden = together->initial_hidden(15);
    torch::Tensor loss = torch::zeros({});
    for (int64_t t = 0; t < 4; ++t) {
      auto [action, next] = together->forward(observations[t], hidden);
      EXPECT_NE(action.grad_fn()->name().find("GruPolicyStep"), std::string::npos) << action.grad_fn()->name();
      loss = loss + (action * torch::linspace(0.5, 1.5, action.numel()).view_as(action)).sum() + next.pow(2).sum();
      hidden = next;
    }
    loss.backward();
    std::vector<torch::Tensor> result{loss.detach(), observations.grad()};
    for (const auto& p : together->parameters()) result.push_back(p.grad().defined() ? p.grad() : torch::Tensor());
    return result;
  };
  const auto one = run(1), three = run(3);
  torch::set_num_threads(previous_threads);
  ASSERT_EQ(one.size(), three.size());
  for (size_t i = 0; i < one.size(); ++i) {
    ASSERT_TRUE(one[i].defined() && three[i].defined()) << "result " << i << " has no value";
    EXPECT_TRUE(torch::equal(one[i], three[i])) << "result " << i << " (0: loss, 1: input gradient, then parameters)";
  }
}

TEST(Threads, TheAppsDefaultIsOmpNumThreadsWhenSetElseEveryAvailableCore) {
  const char* given = std::getenv("OMP_NUM_THREADS");
  const std::string saved = given ? given : "";
  EXPECT_GE(available_cores(), 1);
  setenv("OMP_NUM_THREADS", "3", 1);
  EXPECT_EQ(default_num_threads(), 3);
  for (const char* unusable : {"0", "-2", "two", "4x", ""}) {
    setenv("OMP_NUM_THREADS", unusable, 1);
    EXPECT_EQ(default_num_threads(), available_cores()) << "OMP_NUM_THREADS=" << unusable;
  }
  unsetenv("OMP_NUM_THREADS");
  EXPECT_EQ(default_num_threads(), available_cores());
  if (given) setenv("OMP_NUM_THREADS", saved.c_str(), 1);
}

TEST(ReplicatedPolicy, FallsBackToOneByOneAndRejectsMixedArchitectures) {
  std::vector<Policy> replicas;
  for (int k = 0; k < 2; ++k) {
    torch::manual_seed(k);
    replicas.push_back(std::make_shared<UnvectorisedGru>(RecurrentPolicyOptions(7, 5).hidden_size(4)));
  }
  ReplicatedPolicy together(replicas);
  EXPECT_FALSE(together->vectorised());
  auto observation = torch::rand({6, 7});
  auto [action, hidden] = together->forward(observation, together->initial_hidden(6));
  auto [second, unused] = replicas[1]->forward(observation.narrow(0, 3, 3), replicas[1]->initial_hidden(3));
  EXPECT_TRUE(torch::equal(action.narrow(0, 3, 3), second)) << "replicate 1's block";
  std::vector<Policy> mixed{replicas[0], build_policy("{type: GRU, hidden_size: 5}", 1)};
  EXPECT_THROW(ReplicatedPolicy{mixed}, InputError);
  EXPECT_THROW(together->forward(torch::rand({5, 7}), torch::zeros({5, 4})), InputError);
}

const std::string kSmall = R"(
seed: 3
effector: {preset: ReluPointMass24}
environment: {max_ep_duration: 0.1, action_noise: 0.01, proprioception_noise: 0.01, task: {type: RandomTargetReach}}
policy: {type: GRU, hidden_size: 8, hidden_noise: 0.01}
losses: [{type: position_l1}, {type: muscle_activation, weight: 0.01}]
optimizer: {type: adam, lr: 0.01}
training: {batch_size: 4, n_batches: 5, validation_every: 5, validation_batch_size: 8, checkpoint_every: 0, log_every: 1}
)";

std::vector<torch::Tensor> parameters_of(const Policy& policy) {
  std::vector<torch::Tensor> result;
  for (const auto& p : policy->parameters()) result.push_back(p.detach().clone());
  return result;
}

Trainer trainer_for(const std::string& yaml, const std::string& directory = "", int64_t n_batches = -1) {
  auto experiment = experiment_from_config(ConfigNode::parse(yaml));
  experiment.training.quiet(true);
  if (n_batches >= 0) experiment.training.n_batches(n_batches);
  return Trainer(experiment.environment, experiment.replicates, experiment.losses, experiment.optimizer,
                 experiment.training, directory);
}

std::string with(std::string yaml, const std::string& from, const std::string& to) {
  const auto at = yaml.find(from);
  EXPECT_NE(at, std::string::npos) << "test bug: " << from;
  return yaml.replace(at, from.size(), to);
}

TEST(ReplicateTraining, ReplicateKEndsWhereTheSingleRunWithSeedPlusKEnds) {
  auto together = trainer_for(with(kSmall, "log_every: 1", "log_every: 1, replicates: 3"));
  ASSERT_EQ(together.n_replicates(), 3);
  auto summary = together.train();
  ASSERT_EQ(summary.outcome, TrainingOutcome::kCompleted) << summary.message;
  ASSERT_EQ(summary.replicate_validation_loss.size(), 3u);
  for (int k = 0; k < 3; ++k) {
    auto single = trainer_for(with(kSmall, "seed: 3", "seed: " + std::to_string(3 + k)));
    auto alone = single.train();
    auto mine = parameters_of(together.replicate_policy(k)), theirs = parameters_of(single.policy());
    for (size_t i = 0; i < mine.size(); ++i)
      EXPECT_WITHIN(mine[i], theirs[i], 1e-5, 1e-4, "replicate " << k << " parameter " << i);
    EXPECT_NEAR(summary.replicate_recent_loss[k], alone.mean_recent_loss, 1e-5 * (1 + alone.mean_recent_loss));
    EXPECT_NEAR(summary.replicate_validation_loss[k], *alone.last_validation_loss, 1e-5);
  }
  // The replicates are different networks.
  EXPECT_GT((parameters_of(together.replicate_policy(0))[0] - parameters_of(together.replicate_policy(1))[0]).abs().max().item<double>(), 1e-3);
}

TEST(ReplicateTraining, ResumeEqualsAnUninterruptedRunAndEachReplicateHasItsFiles) {
  const auto root = fs::temp_directory_path() / ("motornet_replicates_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const std::string yaml = with(kSmall, "log_every: 1", "log_every: 1, replicates: 2");
  auto straight = trainer_for(yaml, (root / "straight").string());
  straight.train();
  {
    auto first = trainer_for(yaml, (root / "resumed").string(), 2);
    first.train();
  }
  auto second = trainer_for(yaml, (root / "resumed").string());
  second.resume();
  EXPECT_EQ(second.batches_done(), 2);
  second.train();
  for (int k = 0; k < 2; ++k) {
    const auto directory = root / "resumed" / fmt::format("replicate_{:02}", k);
    EXPECT_EQ(second.replicate_directory(k), directory.string());
    for (const char* file : {"metrics.csv", "checkpoint.pt", "policy.pt"}) EXPECT_TRUE(fs::exists(directory / file)) << file;
    auto a = parameters_of(straight.replicate_policy(k)), b = parameters_of(second.replicate_policy(k));
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "replicate " << k << " parameter " << i;
  }
  // A replicate whose checkpoint is from another batch is refused.
  {
    auto first = trainer_for(yaml, (root / "mixed").string(), 2);
    first.train();
  }
  fs::copy_file(root / "straight" / "replicate_01" / "checkpoint.pt", root / "mixed" / "replicate_01" / "checkpoint.pt",
                fs::copy_options::overwrite_existing);
  auto mixed = trainer_for(yaml, (root / "mixed").string());
  try {
    mixed.resume();
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("replicate 0's at batch 2"), std::string::npos) << error.what();
  }
  fs::remove_all(root);
}

// Everything a replicate's training shows: its weights, and per batch its loss and gradient norm.
struct ReplicateRecord {
  std::vector<std::vector<torch::Tensor>> weights;
  std::vector<std::vector<double>> losses, grad_norms;
  std::vector<double> validation;
};

ReplicateRecord train_replicates(const std::string& yaml, int threads, int64_t expected_groups) {
  const int previous_threads = torch::get_num_threads();
  torch::set_num_threads(threads);
  auto trainer = trainer_for(yaml);
  EXPECT_EQ(trainer.n_replicate_groups(), expected_groups) << "at " << threads << " threads";
  ReplicateRecord record;
  const int64_t K = trainer.n_replicates();
  record.losses.resize(K);
  record.grad_norms.resize(K);
  trainer.on_batch = [&](const BatchMetrics& metrics) {
    record.losses[metrics.replicate].push_back(metrics.loss);
    record.grad_norms[metrics.replicate].push_back(metrics.grad_norm);
  };
  const auto summary = trainer.train();
  torch::set_num_threads(previous_threads);
  EXPECT_EQ(summary.outcome, TrainingOutcome::kCompleted) << summary.message;
  for (int64_t k = 0; k < K; ++k) record.weights.push_back(parameters_of(trainer.replicate_policy(k)));
  record.validation = summary.replicate_validation_loss;
  return record;
}

TEST(ReplicateTraining, GroupsSideBySideGiveEachReplicateTheSameBitsAsOneStackedRollout) {
  // Five replicates with every random stream in use (trials, motor and sensory noise, hidden noise) and a field.
  const std::string yaml = with(with(kSmall, "log_every: 1", "log_every: 1, replicates: 5"), "task: {type: RandomTargetReach}",
                                "task: {type: RandomTargetReach, fields: [{type: curl, strength: 3, fraction: 0.5}]}");
  const auto stacked = train_replicates(with(yaml, "replicates: 5", "replicates: 5, replicate_groups: 1"), 2, 1);
  // Two groups (3 + 2) on two threads; three (2 + 2 + 1) on two threads; two run one after the other on one
  // thread; and the default, which picks one group per thread.
  const std::vector<std::tuple<std::string, int, int64_t>> runs = {
      {"replicates: 5, replicate_groups: 2", 2, 2},
      {"replicates: 5, replicate_groups: 3", 2, 3},
      {"replicates: 5, replicate_groups: 2", 1, 2},
      {"replicates: 5", 2, 2}};
  for (const auto& [setting, threads, groups] : runs) {
    const auto grouped = train_replicates(with(yaml, "replicates: 5", setting), threads, groups);
    for (int64_t k = 0; k < 5; ++k) {
      EXPECT_EQ(grouped.losses[k], stacked.losses[k]) << setting << " at " << threads << " threads, replicate " << k;
      EXPECT_EQ(grouped.grad_norms[k], stacked.grad_norms[k]) << setting << ", replicate " << k;
      for (size_t i = 0; i < stacked.weights[k].size(); ++i)
        EXPECT_TRUE(torch::equal(grouped.weights[k][i], stacked.weights[k][i]))
            << setting << " at " << threads << " threads, replicate " << k << " parameter " << i;
    }
    EXPECT_EQ(grouped.validation, stacked.validation) << setting;
  }
  // One thread and the default: one stacked rollout.
  train_replicates(yaml, 1, 1);
}

TEST(ReplicateTraining, GroupsResizedBetweenBatchesKeepEveryBit) {
  // What the balancer does when a thread is slower (train/group_balancer.h), forced at every batch here.
  const std::string yaml = with(with(kSmall, "log_every: 1", "log_every: 1, replicates: 5"), "task: {type: RandomTargetReach}",
                                "task: {type: RandomTargetReach, fields: [{type: curl, strength: 3, fraction: 0.5}]}");
  const auto stacked = train_replicates(with(yaml, "replicates: 5", "replicates: 5, replicate_groups: 1"), 2, 1);
  const int previous_threads = torch::get_num_threads();
  torch::set_num_threads(2);
  auto trainer = trainer_for(with(yaml, "replicates: 5", "replicates: 5, replicate_groups: 2"));
  const std::vector<std::vector<int64_t>> sizes = {{1, 4}, {4, 1}, {3, 2}, {2, 3}, {1, 4}};
  std::vector<std::vector<double>> losses(5);
  trainer.on_batch = [&](const BatchMetrics& metrics) {
    losses[metrics.replicate].push_back(metrics.loss);
    if (metrics.replicate == 4) trainer.resize_replicate_groups(sizes[(metrics.batch - 1) % sizes.size()]);
  };
  const auto summary = trainer.train();
  torch::set_num_threads(previous_threads);
  ASSERT_EQ(summary.outcome, TrainingOutcome::kCompleted) << summary.message;
  EXPECT_EQ(trainer.replicate_group_sizes(), sizes[4]);
  for (int64_t k = 0; k < 5; ++k) {
    EXPECT_EQ(losses[k], stacked.losses[k]) << "replicate " << k;
    const auto weights = parameters_of(trainer.replicate_policy(k));
    for (size_t i = 0; i < weights.size(); ++i)
      EXPECT_TRUE(torch::equal(weights[i], stacked.weights[k][i])) << "replicate " << k << " parameter " << i;
  }
  EXPECT_EQ(summary.replicate_validation_loss, stacked.validation);
  // Sizes that do not describe the groups are refused, naming what is wrong, and change nothing.
  const auto refused = [&](const std::vector<int64_t>& bad, const std::string& problem) {
    try {
      trainer.resize_replicate_groups(bad);
      ADD_FAILURE() << "accepted " << fmt::format("{}", fmt::join(bad, ", "));
    } catch (const InputError& error) {
      EXPECT_NE(std::string(error.what()).find(problem), std::string::npos) << error.what();
    }
    EXPECT_EQ(trainer.replicate_group_sizes(), sizes[4]);
  };
  refused({5}, "1 group sizes for 2 groups");
  refused({5, 0}, "a group of 0 replicates");
  refused({3, 3}, "add up to 6, not the 5 replicates");
}

TEST(ReplicateTraining, TheAppsThreadCachedTensorMemoryChangesNoBit) {
  // Groups side by side on two threads, first with LibTorch's allocator, then with the apps' per-thread cache
  // (which cannot be uninstalled: this test's process keeps it, no other test sees it).
  const std::string yaml = with(with(kSmall, "log_every: 1", "log_every: 1, replicates: 4, replicate_groups: 2"),
                                "task: {type: RandomTargetReach}",
                                "task: {type: RandomTargetReach, fields: [{type: curl, strength: 3, fraction: 0.5}]}");
  const auto plain = train_replicates(yaml, 2, 2);
  use_thread_cached_tensor_memory();
  const auto cached = train_replicates(yaml, 2, 2);
  EXPECT_GT(this_thread_tensor_memory_cache().blocks, 0) << "the run did not go through the cache";
  for (int64_t k = 0; k < 4; ++k) {
    EXPECT_EQ(cached.losses[k], plain.losses[k]) << "replicate " << k;
    for (size_t i = 0; i < plain.weights[k].size(); ++i)
      EXPECT_TRUE(torch::equal(cached.weights[k][i], plain.weights[k][i])) << "replicate " << k << " parameter " << i;
  }
  EXPECT_EQ(cached.validation, plain.validation);
}

TEST(ReplicateTraining, GroupsNeedEnoughReplicatesAndAWayToBuildEnvironments) {
  const std::string yaml = with(kSmall, "log_every: 1", "log_every: 1, replicates: 2, replicate_groups: 3");
  try {
    trainer_for(yaml);
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("training.replicate_groups"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("3 groups for 2 replicates"), std::string::npos) << error.what();
  }
  auto experiment = experiment_from_config(ConfigNode::parse(with(yaml, "replicate_groups: 3", "replicate_groups: 2")));
  experiment.training.quiet(true).make_environment(nullptr);  // an environment the trainer cannot rebuild
  try {
    Trainer(experiment.environment, experiment.replicates, experiment.losses, experiment.optimizer, experiment.training);
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("make_environment"), std::string::npos) << error.what();
  }
  // A maker that builds another kind of environment (here: a longer episode) is refused, naming it.
  const auto like = experiment.environment;
  experiment.training.make_environment([like] {
    return Environment(like->effector(), like->task(), EnvironmentOptions(like->options()).max_ep_duration(0.2));
  });
  try {
    Trainer(experiment.environment, experiment.replicates, experiment.losses, experiment.optimizer, experiment.training);
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("training.make_environment"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("like the trainer's"), std::string::npos) << error.what();
  }
  experiment.training.make_environment(nullptr);
  // Left to pick, such a trainer steps its replicates stacked.
  const int previous_threads = torch::get_num_threads();
  torch::set_num_threads(2);
  Trainer picked(experiment.environment, experiment.replicates, experiment.losses, experiment.optimizer,
                 experiment.training.replicate_groups(0));
  torch::set_num_threads(previous_threads);
  EXPECT_EQ(picked.n_replicate_groups(), 1);
  EXPECT_THROW(experiment_from_config(ConfigNode::parse(with(yaml, "replicate_groups: 3", "replicate_groups: -1"))),
               InputError);
}

TEST(ReplicateTraining, ConfigurationErrors) {
  try {
    experiment_from_config(ConfigNode::parse(with(kSmall, "log_every: 1", "log_every: 1, replicates: 0")));
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("training.replicates"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace motornet
