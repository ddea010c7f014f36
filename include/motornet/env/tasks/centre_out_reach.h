#pragma once
// CentreOutReach: `n_targets` targets evenly spaced on a circle of `radius` around the fingertip of a start
// posture (default: the centre of the joint range). Evaluation runs the centre-out set (trial i goes to target
// i mod n_targets) from the start posture with the go cue at the middle of its window; training draws random
// starts and targets, as MotorNet's paper does, with a random go cue and catch trials. Planar effectors only.

#include "motornet/env/tasks/reach_task.h"

namespace motornet {

struct CentreOutReachOptions {
  TORCH_ARG(int64_t, n_targets) = 8;
  TORCH_ARG(double, radius) = 0.1;        // m
  TORCH_ARG(double, angle_offset) = 0.0;  // degrees, direction of target 0 (counter-clockwise from +x)
};

const OptionTable<CentreOutReachOptions>& centre_out_reach_option_table();

class CentreOutReach : public ReachTask {
 public:
  CentreOutReach(CentreOutReachOptions options = {}, ReachTaskOptions reach = {});
  std::string type_name() const override { return "CentreOutReach"; }
  void validate(const EffectorImpl& effector, double timestep, int64_t n_steps) const override;
  int64_t evaluation_batch_size() const override { return options_.n_targets(); }
  // The evaluation targets [n_targets, 2] around the start posture's fingertip.
  torch::Tensor targets(const EffectorImpl& effector) const;

 protected:
  std::pair<torch::Tensor, torch::Tensor> draw_start_and_target(int64_t batch_size, const EffectorImpl& effector,
                                                                torch::Generator& generator,
                                                                bool evaluation) const override;

 private:
  CentreOutReachOptions options_;
};

}  // namespace motornet
