#include "motornet/train/experiment.h"

#include <fmt/format.h>

#include "motornet/body/effector_config.h"
#include "motornet/env/environment_config.h"
#include "motornet/core/error.h"
#include "motornet/train/memory_need.h"
#include "motornet/train/phases.h"

namespace motornet {

OptimizerOptions optimizer_options_from_config(const ConfigNode& block) {
  return optimizer_option_table().read(block);
}

TrainingOptions training_options_from_config(const ConfigNode& block) {
  return training_option_table().read(block);
}

namespace {

// Everything of one run; `seed` replaces the configured seed (replicates).
Experiment single_experiment(const ConfigNode& root, std::optional<uint64_t> seed) {
  root.require_map();
  // The run-level keys (phases, init_from, provenance) belong to run_training (train/phases.h): built from a whole
  // run's configuration, the experiment is the base one, without any phase's settings or warm start.
  std::vector<std::string> keys = {"seed", "effector", "environment", "policy", "losses", "optimizer", "training"};
  keys.insert(keys.end(), run_level_keys().begin(), run_level_keys().end());
  root.check_keys(keys);
  Experiment experiment;
  if (auto node = root.child("seed")) {
    const auto value = node->as_int();
    if (value < 0) node->fail("must not be negative");
    experiment.seed = static_cast<uint64_t>(value);
  }
  if (seed) experiment.seed = *seed;
  // One seed fixes everything: weights now, trial draws and noise through the trainer's generators.
  torch::manual_seed(experiment.seed);
  experiment.effector = effector_from_config(root.at("effector"));
  if (auto block = root.child("environment")) {
    experiment.environment = environment_from_config(*block, experiment.effector);
  } else {
    experiment.environment = environment_from_config(ConfigNode(YAML::Node(YAML::NodeType::Map), "environment"),
                                                     experiment.effector);
  }
  // Before the policy and anything sized by the batch is created: a run too large for this machine is refused
  // naming the key (the first replicate checks for all).
  if (!seed) check_memory_need(root, *experiment.environment);
  const int64_t inputs = experiment.environment->observation_size();
  const int64_t outputs = experiment.effector->n_muscles();
  experiment.policy = root.has("policy")
                          ? policy_from_config(root.at("policy"), inputs, outputs)
                          : policy_from_config(ConfigNode(YAML::Node(YAML::NodeType::Map), "policy"), inputs, outputs);
  if (auto block = root.child("losses")) {
    experiment.losses = losses_from_config(*block);
  } else {
    experiment.losses = CompositeLoss({WeightedLoss{"position_l1", 1.0, make_loss("position_l1")}});
  }
  if (auto block = root.child("optimizer")) experiment.optimizer = optimizer_options_from_config(*block);
  if (auto block = root.child("training")) experiment.training = training_options_from_config(*block);
  experiment.training.seed(experiment.seed);
  // Replicate groups step environments of their own, built as this one was (the effector and the task are
  // only read while stepping, so the copies share them).
  experiment.training.make_environment([effector = experiment.effector, task = experiment.environment->task(),
                                        options = experiment.environment->options()] {
    return Environment(effector, task, options);
  });
  check_training_options(experiment.optimizer, experiment.training);
  experiment.replicates = {experiment.policy};
  return experiment;
}

}  // namespace

Experiment experiment_from_config(const ConfigNode& root) {
  Experiment experiment = single_experiment(root, std::nullopt);
  // Replicate k's network is the one a single run with seed `seed + k` would build.
  for (int64_t k = 1; k < experiment.training.replicates(); ++k)
    experiment.replicates.push_back(single_experiment(root, experiment.seed + static_cast<uint64_t>(k)).policy);
  torch::manual_seed(experiment.seed);
  return experiment;
}

}  // namespace motornet
