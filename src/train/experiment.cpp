#include "motornet/train/experiment.h"

#include <fmt/format.h>

#include "motornet/body/effector_config.h"
#include "motornet/env/environment_config.h"
#include "motornet/core/error.h"

namespace motornet {

OptimizerOptions optimizer_options_from_config(const ConfigNode& block) {
  block.require_map();
  block.check_keys({"type", "lr", "weight_decay", "betas", "eps", "momentum", "schedule", "step_size", "gamma", "min_lr"});
  OptimizerOptions options;
  if (auto node = block.child("type")) options.type(node->as_string());
  if (auto node = block.child("lr")) options.lr(node->as_double());
  if (auto node = block.child("weight_decay")) options.weight_decay(node->as_double());
  if (auto node = block.child("betas")) options.betas(node->as_doubles(2));
  if (auto node = block.child("eps")) options.eps(node->as_double());
  if (auto node = block.child("momentum")) options.momentum(node->as_double());
  if (auto node = block.child("schedule")) options.schedule(node->as_string());
  if (auto node = block.child("step_size")) options.step_size(node->as_int());
  if (auto node = block.child("gamma")) options.gamma(node->as_double());
  if (auto node = block.child("min_lr")) options.min_lr(node->as_double());
  return options;
}

TrainingOptions training_options_from_config(const ConfigNode& block) {
  block.require_map();
  block.check_keys({"batch_size", "n_batches", "gradient_clip", "validation_every", "validation_batch_size",
                    "checkpoint_every", "log_every", "replicates"});
  TrainingOptions options;
  if (auto node = block.child("batch_size")) options.batch_size(node->as_int());
  if (auto node = block.child("n_batches")) options.n_batches(node->as_int());
  if (auto node = block.child("gradient_clip")) options.gradient_clip(node->as_double());
  if (auto node = block.child("validation_every")) options.validation_every(node->as_int());
  if (auto node = block.child("validation_batch_size")) options.validation_batch_size(node->as_int());
  if (auto node = block.child("checkpoint_every")) options.checkpoint_every(node->as_int());
  if (auto node = block.child("log_every")) options.log_every(node->as_int());
  if (auto node = block.child("replicates")) {
    options.replicates(node->as_int());
    if (options.replicates() < 1) node->fail(fmt::format("must be at least 1, got {}", options.replicates()));
  }
  return options;
}

namespace {

// Everything of one run; `seed` replaces the configured seed (replicates).
Experiment single_experiment(const ConfigNode& root, std::optional<uint64_t> seed) {
  root.require_map();
  root.check_keys({"seed", "effector", "environment", "policy", "losses", "optimizer", "training"});
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
