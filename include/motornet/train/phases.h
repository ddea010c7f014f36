#pragma once
// Training phases: one network trained through several stages in one run directory, the way a motor-learning
// experiment runs (a baseline in a null field, then adaptation in a curl field, then washout):
//
//   phases:
//     - {name: baseline, n_batches: 300}
//     - name: curl
//       n_batches: 100
//       set: {environment.task.fields: [{type: curl, strength: 10}]}   # the same key paths as --set
//       reset_optimizer: false   # default: the optimizer's state carries over
//       init_from: runs/other    # optional: start this phase from another run's policy
//
// Each phase trains with the run's configuration plus its `set`, and is a stage a run of its own could be: its
// trial and noise streams start from the seed and its learning-rate schedule from its first batch, so a phase
// with reset_optimizer: true trains exactly as a new run warm-started (init_from) from the previous phase's
// policy would. What a network cannot change between phases (effector, policy, seed, replicates) is an error at
// load naming the key. Without `phases:` a run is one phase named "training".

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

namespace motornet {

struct TrainingPhase {
  std::string name;
  int64_t n_batches = 0;
  int64_t first_batch = 0;  // batches of the phases before it
  YAML::Node set;           // key path -> value, applied on top of the run's configuration (a map, maybe empty)
  bool reset_optimizer = false;
  std::string init_from;    // "" = continue from the previous phase (the first: from the configured initialisation)
  int64_t end_batch() const { return first_batch + n_batches; }
};

// The run's phases from its configuration: `phases:` in order, the last lasting until training.n_batches when
// that is given (so a --resume with a larger training.n_batches extends it), or one phase of training.n_batches.
// The top-level init_from belongs to the first phase. InputError naming the key for an unknown or bad phase key,
// a duplicate name, or a `set` of what a phase cannot change.
std::vector<TrainingPhase> phases_from_config(const YAML::Node& config);

// The configuration `phase` trains with: the run's, its `set` applied, without `phases:` and `init_from`, and with
// training.n_batches the phase's.
YAML::Node phase_configuration(const YAML::Node& config, const TrainingPhase& phase);

// The phase that a run which has done `batches_done` batches is in or has just finished: the one with
// first_batch < batches_done <= end_batch (the first for 0; the last for anything beyond).
size_t phase_at(const std::vector<TrainingPhase>& phases, int64_t batches_done);

// The top-level keys a configuration may have besides the experiment's own (experiment.h).
inline const std::vector<std::string>& run_level_keys() {
  static const std::vector<std::string> keys = {"phases", "init_from", "provenance", "evaluation"};
  return keys;
}

}  // namespace motornet
