#pragma once
// The conditions of a batch of trials, drawn by a Task at reset: where each trial starts, where it should go,
// when its cues come, and the per-trial draws of its force fields. Everything a loss or a policy needs is here
// in task-independent form: the goal trajectory and the task's observation inputs for every step.

#include <torch/torch.h>

#include <vector>

namespace motornet {

// Per-trial draws of one force field.
struct FieldTrials {
  torch::Tensor active;      // [B]: 1 where the field applies in this trial, else 0
  torch::Tensor onset_step;  // [B] int64 (pulses: first step of the pulse; unused otherwise)
  torch::Tensor direction;   // [B, S] (pulses: unit direction; unused otherwise)
};

struct Trials {
  torch::Tensor initial_joint;    // [B, 2D]
  torch::Tensor start;            // [B, S]: fingertip at the start
  torch::Tensor target;           // [B, S]
  torch::Tensor target_cue_step;  // [B] int64: first step at which the target is shown
  torch::Tensor go_cue_step;      // [B] int64: first step after the go cue; n_steps + 1 in catch trials
  torch::Tensor catch_trial;      // [B] bool
  torch::Tensor goal;             // [B, T+1, S]: where the fingertip should be at each step (0 = reset)
  torch::Tensor inputs;           // [B, T+1, E]: the task's observation inputs at each step (before delays)
  std::vector<FieldTrials> fields;  // one per force field of the task, in order

  int64_t batch_size() const { return initial_joint.size(0); }
  // Trials [begin, begin + count) of this batch, and batches joined one after the other.
  Trials rows(int64_t begin, int64_t count) const;
  static Trials concatenate(const std::vector<Trials>& parts);
};

}  // namespace motornet
