#pragma once
// RandomTargetReach (SPEC §7): start drawn uniformly in joint space (or `start_posture`), goal the fingertip of a
// second uniform draw, go at once. The observation's task part is the goal [S], noise free.

#include "motornet/env/tasks/reach_task.h"

namespace motornet {

class RandomTargetReach : public ReachTask {
 public:
  explicit RandomTargetReach(ReachTaskOptions options = {}) : ReachTask(std::move(options)) {}
  std::string type_name() const override { return "RandomTargetReach"; }
  int64_t n_inputs(int64_t space_dim) const override { return space_dim; }
  void compose(Trials& trials, int64_t n_steps) const override;

 protected:
  std::pair<torch::Tensor, torch::Tensor> draw_start_and_target(int64_t batch_size, const EffectorImpl& effector,
                                                                torch::Generator& generator,
                                                                bool evaluation) const override;
};

}  // namespace motornet
