#pragma once
// Evaluation conditions: one trained network evaluated under several settings, as an experiment's probes are
// (config `evaluation:`, run by motornet-train at the end and by motornet-eval):
//
//   evaluation:
//     batch_size: 0                 # trials per condition (0: the task's evaluation set)
//     conditions:
//       - {name: null_field, set: {environment.task.fields: []}}
//       - {name: curl, set: {environment.task.fields: [{type: curl, strength: 10}]}}
//       - {name: catch, set: {environment.task.catch_fraction: 1.0}}
//
// Each condition is the run's base configuration (no phase's settings) with its `set` (environment and losses
// keys only) and writes eval/<name>/ (rollout.h5, summary.json, figures). Without conditions the evaluation is
// the base configuration's, written to eval/. Snapshots (training.snapshot_every) can be evaluated under every
// condition to trace learning over batches: eval/snapshots.csv and its figure.

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "motornet/train/evaluation.h"
#include "motornet/train/experiment.h"

namespace motornet {

struct EvaluationCondition {
  std::string name;
  YAML::Node set;  // key path -> value
};

struct EvaluationSettings {
  int64_t batch_size = 0;
  std::vector<EvaluationCondition> conditions;  // empty: one evaluation of the base configuration
};

// InputError naming the key for an unknown key, a duplicate or bad name, or a `set` outside environment/losses.
EvaluationSettings evaluation_settings_from_config(const YAML::Node& config);
// The conditions named (all when `names` is empty); an unknown name is an InputError listing the known ones.
std::vector<EvaluationCondition> select_conditions(const EvaluationSettings& settings,
                                                   const std::vector<std::string>& names);
// The configuration a condition evaluates with: the run's base configuration with the condition's `set`.
YAML::Node condition_configuration(const YAML::Node& config, const EvaluationCondition& condition);

struct ConditionEvaluation {
  EvaluationResult result;
  Experiment experiment;    // the condition's (its environment, effector and losses)
  std::string config_text;  // the condition's configuration, as YAML
};
// Evaluates `policy` under `condition` (nullptr: the base configuration), drawing the trials from the seed.
ConditionEvaluation evaluate_condition(const YAML::Node& config, const EvaluationCondition* condition, PolicyImpl& policy,
                                       int64_t batch_size);
// Evaluates and writes each condition into directory/<name>/ (without conditions: directory/ itself); returns
// summary.json's "evaluation" entry (one object per condition, by name, or the single evaluation's).
nlohmann::json evaluate_and_write(const YAML::Node& config, const std::vector<EvaluationCondition>& conditions,
                                  PolicyImpl& policy, int64_t batch_size, const std::string& directory);

// Every snapshot in run_directory/snapshots under each condition (or the base configuration): writes
// out_directory/snapshots.csv (batch, phase, condition and the evaluation's means) and snapshots.png/.svg (the
// mean lateral deviation over batches, one line per condition). InputError when there are no snapshots.
void evaluate_snapshots(const YAML::Node& config, const std::string& run_directory,
                        const std::vector<EvaluationCondition>& conditions, int64_t batch_size,
                        const std::string& out_directory);

}  // namespace motornet
