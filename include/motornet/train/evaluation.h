#pragma once
// Deterministic evaluation of a trained policy (the task's evaluation conditions, no noise, no gradient) and
// what it writes: rollout.h5 (with each trial's conditions and each field's force), summary.json (per target:
// endpoint error, lateral deviation, reaction and movement time, peak speed; catch, posture and channel trials
// on their own) and the figures of the rollout. Catch trials and fields that apply to a fraction of trials are
// drawn as in training, from the evaluation seed, so an evaluation is the same every time.

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "motornet/env/environment.h"
#include "motornet/control/episode.h"
#include "motornet/control/loss.h"
#include "motornet/control/policy.h"
#include "motornet/train/trial_measures.h"

namespace motornet {

// Means over the reach trials to one target that are neither catch trials nor channel trials (train/trial_measures.h).
struct TargetSummary {
  std::vector<double> target;  // [S]
  int64_t trials = 0;
  double endpoint_error = 0.0;     // m
  double peak_speed = 0.0;         // m/s
  double movement_time = 0.0;      // s
  double lateral_deviation = 0.0;  // m, signed (positive: left of the movement)
  double reaction_time = NAN;      // s, over the trials that moved (NaN when none did)
};

struct EvaluationResult {
  EpisodeRecord episode;  // recorded in full
  Trials trials;          // the conditions of each trial
  std::vector<TrialMeasures> measures;  // per trial
  std::vector<std::string> field_names, field_types;  // the task's force fields, in order
  std::vector<TargetSummary> targets;
  double loss = 0.0;
  std::map<std::string, double> terms;
};

// `batch_size` 0: the task's evaluation batch (e.g. one trial per centre-out target), else 64.
EvaluationResult evaluate(EnvironmentImpl& environment, PolicyImpl& policy, const CompositeLoss& losses,
                          int64_t batch_size = 0);
nlohmann::json to_json(const EvaluationResult& result);
// rollout.h5's datasets: the episode's (io/rollout_file.h), trials/* (start, target, target_cue_step, go_cue_step
// (-1 in catch trials), catch, kind, and each trial's measures) and fields/<name>/* (force [B, T, S], active,
// and pulses' onset_step and direction).
std::map<std::string, torch::Tensor> evaluation_datasets(const EvaluationResult& result);

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
