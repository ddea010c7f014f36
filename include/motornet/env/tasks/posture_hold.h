#pragma once
// PostureHold: keep the hand where it starts (goal = start) while mechanical perturbations (ForcePulse fields)
// push it on a fraction of trials: the experiments on fast feedback responses. Start: `start_posture`, else
// random within the joint range (the centre at evaluation). The observation's task part is the goal [S].

#include "motornet/env/tasks/reach_task.h"

namespace motornet {

class PostureHold : public ReachTask {
 public:
  explicit PostureHold(ReachTaskOptions options = {}) : ReachTask(std::move(options)) {}
  std::string type_name() const override { return "PostureHold"; }
  int64_t n_inputs(int64_t space_dim) const override { return space_dim; }
  void compose(Trials& trials, int64_t n_steps) const override;

 protected:
  std::pair<torch::Tensor, torch::Tensor> draw_start_and_target(int64_t batch_size, const EffectorImpl& effector,
                                                                torch::Generator& generator,
                                                                bool evaluation) const override;
};

}  // namespace motornet
