#pragma once
// What a rollout of a policy in an environment records, stacked over time: everything the losses and the
// analysis need. Index 0 of the time axis is the state after reset.

#include <torch/torch.h>

#include <map>
#include <string>

namespace motornet {

struct EpisodeRecord {
  torch::Tensor fingertip;      // [B, T+1, S]
  torch::Tensor hand_velocity;  // [B, T+1, S]
  torch::Tensor goal;           // [B, T+1, S]
  torch::Tensor activation;     // [B, T+1, M]
  torch::Tensor force;          // [B, T+1, M] (N)
  torch::Tensor hidden;         // [B, T+1, H] (the initial hidden state first)
  torch::Tensor action;         // [B, T, M] as the policy produced it
  torch::Tensor joint;          // [B, T+1, 2D]
  torch::Tensor max_isometric_force;  // [M] (for force penalties normalised by F0)
  torch::Tensor target_cue_step;      // [B] int64: each trial's first step with the target shown
  torch::Tensor go_cue_step;          // [B] int64: each trial's first step after the go cue (catch: T + 1)
  // Recorded only for analysis (rollout with `full = true`):
  torch::Tensor cartesian;    // [B, T+1, 2S]
  torch::Tensor muscle;       // [B, T+1, K, M]
  torch::Tensor geometry;     // [B, T+1, 2+D, M]
  torch::Tensor observation;  // [B, T+1, obs]
  std::map<std::string, torch::Tensor> field_forces;  // [B, T, S] per force field (by name): the force of each step
  double timestep = 0.0;

  // Trials [begin, begin + count) of the episode (one replicate's block, say).
  EpisodeRecord rows(int64_t begin, int64_t count) const;
};

}  // namespace motornet
