#pragma once
// A whole experiment from one YAML file (what motornet-train runs):
//   seed: 0
//   effector: {...}        the scenario schema (preset or custom)
//   environment: {...}     delays, noise, episode length and `task` (see environment_config.h)
//   policy: {type: GRU, hidden_size: 32, n_layers: 1, hidden_noise: 0}
//   losses: [{type: position_l1, weight: 1}]
//   optimizer: {type: adam, lr: 1e-3, schedule: constant}
//   training: {batch_size: 32, n_batches: 6000, gradient_clip: 1.0, validation_every: 100,
//              validation_batch_size: 256, checkpoint_every: 500, log_every: 50, replicates: 1}

#include <yaml-cpp/yaml.h>

#include "motornet/core/config.h"
#include "motornet/env/environment.h"
#include "motornet/control/loss.h"
#include "motornet/control/policy.h"
#include "motornet/train/trainer.h"

namespace motornet {

struct Experiment {
  uint64_t seed = 0;
  Effector effector{nullptr};
  Environment environment{nullptr};
  Policy policy;                 // replicate 0's
  std::vector<Policy> replicates;  // training.replicates policies, replicate k built with seed + k
  CompositeLoss losses{{WeightedLoss{"position_l1", 1.0, make_loss("position_l1")}}};
  OptimizerOptions optimizer;
  TrainingOptions training;
};

// Builds everything the configuration describes; the seed is applied before any random initialisation.
Experiment experiment_from_config(const ConfigNode& root);
OptimizerOptions optimizer_options_from_config(const ConfigNode& block);
TrainingOptions training_options_from_config(const ConfigNode& block);

}  // namespace motornet
