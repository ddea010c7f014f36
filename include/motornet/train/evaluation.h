#pragma once
// Deterministic evaluation of a trained policy (the task's evaluation conditions, no noise, no gradient) and
// what it writes: rollout.h5, summary.json (per-target endpoint error, peak speed, movement time) and the
// figures of the rollout.

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "motornet/env/environment.h"
#include "motornet/control/episode.h"
#include "motornet/control/loss.h"
#include "motornet/control/policy.h"

namespace motornet {

struct TargetSummary {
  std::vector<double> target;  // [S]
  int64_t trials = 0;
  double endpoint_error = 0.0;  // m: distance from the target at the last step (mean over trials)
  double peak_speed = 0.0;      // m/s (mean over trials)
  // s: from movement onset (after the go cue, hand speed first above 10% of its peak) to the last time the
  // speed is above 10% of its peak (mean over trials; 0 when the hand never moves).
  double movement_time = 0.0;
};

struct EvaluationResult {
  EpisodeRecord episode;  // recorded in full
  std::vector<TargetSummary> targets;
  double loss = 0.0;
  std::map<std::string, double> terms;
};

// `batch_size` 0: the task's evaluation batch (e.g. one trial per centre-out target), else 64.
EvaluationResult evaluate(EnvironmentImpl& environment, PolicyImpl& policy, const CompositeLoss& losses,
                          int64_t batch_size = 0);
nlohmann::json to_json(const EvaluationResult& result);

// Writes rollout.h5, summary.json and the rollout figures (trajectories, arm snapshots for a two-joint arm,
// muscle activation, hidden activity) into `directory`.
void write_evaluation(const std::string& directory, const EvaluationResult& result, const EnvironmentImpl& environment,
                      const std::string& config_yaml);
// Draws the figures of a rollout of this effector into `directory`.
void draw_rollout_figures(const std::string& directory, const EpisodeRecord& episode, const EffectorImpl& effector);
// The episode a rollout file holds (for redrawing its figures).
EpisodeRecord episode_from_rollout_file(const std::string& filename);

// Loads the policy weights of a trainer checkpoint into `policy` (which must have the same architecture).
void load_policy_weights(PolicyImpl& policy, const std::string& checkpoint_file);

}  // namespace motornet
