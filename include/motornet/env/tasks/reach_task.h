#pragma once
// Shared machinery of the reaching tasks: start postures, a target cue and a go cue each at a random time in
// its window (fixed at evaluation), catch trials without a go cue, and the goal trajectory "start until the go
// cue, then the target". Subclasses decide where starts and targets come from and what the observation shows.

#include <optional>
#include <vector>

#include "motornet/core/option_table.h"
#include "motornet/env/task.h"

namespace motornet {

struct ReachTaskOptions {
  // s: the target appears at a random time in [first, second]; {0, 0} = shown from the start.
  TORCH_ARG(std::vector<double>, target_cue_window) = std::vector<double>{0.0, 0.0};
  // s: the go cue comes at a random time in [first, second] (absolute time in the episode).
  TORCH_ARG(std::vector<double>, go_cue_window) = std::vector<double>{0.0, 0.0};
  TORCH_ARG(double, catch_fraction) = 0.0;  // trials without a go cue (training only)
  // Joint positions [D] of the start posture; nullopt: the task's default.
  TORCH_ARG(std::optional<std::vector<double>>, start_posture) = std::nullopt;
};

// The keys every reaching task's YAML block takes, their defaults and checks (core/option_table.h).
const OptionTable<ReachTaskOptions>& reach_task_option_table();

class ReachTask : public Task {
 public:
  explicit ReachTask(ReachTaskOptions options);
  const ReachTaskOptions& reach_options() const { return options_; }

  void validate(const EffectorImpl& effector, double timestep, int64_t n_steps) const override;
  Trials sample(int64_t batch_size, int64_t n_steps, double timestep, const EffectorImpl& effector,
                torch::Generator& generator, bool evaluation) const override;
  void compose(Trials& trials, int64_t n_steps) const override;

  // Observation inputs: [target (the start before the target cue), start, go cue (0 then 1)] = 2S + 1.
  int64_t n_inputs(int64_t space_dim) const override { return 2 * space_dim + 1; }

 protected:
  // Start joint states [B, 2D] and targets [B, S] of a batch.
  virtual std::pair<torch::Tensor, torch::Tensor> draw_start_and_target(int64_t batch_size, const EffectorImpl& effector,
                                                                        torch::Generator& generator,
                                                                        bool evaluation) const = 0;
  // Uniform joint positions within the bounds, zero velocities [B, 2D] (SPEC §2.2).
  static torch::Tensor random_joint_states(int64_t batch_size, const EffectorImpl& effector, torch::Generator& generator);
  // The configured start posture [B, 2D] (zero velocity), or the centre of the joint range when none is set.
  torch::Tensor start_posture_states(int64_t batch_size, const EffectorImpl& effector) const;
  static torch::Tensor fingertip(const EffectorImpl& effector, const torch::Tensor& joint_states);
  // Start: the configured start posture, else uniform in joint space; target: the fingertip of a second
  // uniform draw (SPEC §7).
  std::pair<torch::Tensor, torch::Tensor> random_start_and_target(int64_t batch_size, const EffectorImpl& effector,
                                                                  torch::Generator& generator) const;

 private:
  ReachTaskOptions options_;
};

}  // namespace motornet
