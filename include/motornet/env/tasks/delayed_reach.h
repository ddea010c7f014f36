#pragma once
// DelayedReach: random start and target; the target is shown from the start of the trial and the go cue comes
// after a random delay drawn from `go_cue_window` (its middle at evaluation).

#include "motornet/env/tasks/reach_task.h"

namespace motornet {

class DelayedReach : public ReachTask {
 public:
  // Its defaults differ from every reaching task's in the go cue: after 0.2-0.5 s.
  static ReachTaskOptions default_options() { return ReachTaskOptions().go_cue_window({0.2, 0.5}); }
  explicit DelayedReach(ReachTaskOptions options = default_options());
  std::string type_name() const override { return "DelayedReach"; }

 protected:
  std::pair<torch::Tensor, torch::Tensor> draw_start_and_target(int64_t batch_size, const EffectorImpl& effector,
                                                                torch::Generator& generator,
                                                                bool evaluation) const override;
};

}  // namespace motornet
