// The concrete reaching tasks: RandomTargetReach, CentreOutReach, DelayedReach and PostureHold.

#include <fmt/format.h>

#include <cmath>

#include "motornet/core/error.h"
#include "motornet/env/tasks/centre_out_reach.h"
#include "motornet/env/tasks/delayed_reach.h"
#include "motornet/env/tasks/posture_hold.h"
#include "motornet/env/tasks/random_target_reach.h"

namespace motornet {

// RandomTargetReach ------------------------------------------------------------------------------------------

std::pair<torch::Tensor, torch::Tensor> RandomTargetReach::draw_start_and_target(int64_t batch_size,
                                                                                 const EffectorImpl& effector,
                                                                                 torch::Generator& generator,
                                                                                 bool evaluation) const {
  return random_start_and_target(batch_size, effector, generator);
}

void RandomTargetReach::compose(Trials& trials, int64_t n_steps) const {
  ReachTask::compose(trials, n_steps);
  trials.inputs = trials.goal;  // SPEC §7: the observation starts with the goal
}

// CentreOutReach ---------------------------------------------------------------------------------------------

const OptionTable<CentreOutReachOptions>& centre_out_reach_option_table() {
  static const auto table =
      OptionTable<CentreOutReachOptions>()
          .add(MOTORNET_OPTION(n_targets), "targets on the circle", checks::at_least(1))
          .add(MOTORNET_OPTION(radius), "m: the circle's radius around the start posture's fingertip",
               checks::positive())
          .add(MOTORNET_OPTION(angle_offset), "degrees: direction of target 0, counter-clockwise from +x");
  return table;
}

CentreOutReach::CentreOutReach(CentreOutReachOptions options, ReachTaskOptions reach)
    : ReachTask(std::move(reach)), options_(options) {
  centre_out_reach_option_table().check(options_);
}

torch::Tensor CentreOutReach::targets(const EffectorImpl& effector) const {
  auto centre = fingertip(effector, start_posture_states(1, effector)).to(torch::kFloat64)[0];
  auto angles = torch::arange(options_.n_targets(), torch::kFloat64) * (2.0 * M_PI / options_.n_targets()) +
                options_.angle_offset() * M_PI / 180.0;
  return centre + options_.radius() * torch::stack({torch::cos(angles), torch::sin(angles)}, 1);
}

void CentreOutReach::validate(const EffectorImpl& effector, double timestep, int64_t n_steps) const {
  require(effector.space_dim() == 2, "type",
          fmt::format("CentreOutReach needs a planar effector (space_dim 2), got space_dim {}", effector.space_dim()));
  ReachTask::validate(effector, timestep, n_steps);
  auto all = targets(effector);
  for (int64_t k = 0; k < options_.n_targets(); ++k) {
    std::vector<double> point = {all[k][0].item<double>(), all[k][1].item<double>()};
    auto reachable = effector.skeleton()->can_reach(point);
    require(!reachable.has_value() || *reachable, "radius",
            fmt::format("target {} at ({:.4f}, {:.4f}) m, {} m from the start, is out of the effector's reach", k,
                        point[0], point[1], options_.radius()));
  }
}

std::pair<torch::Tensor, torch::Tensor> CentreOutReach::draw_start_and_target(int64_t batch_size,
                                                                              const EffectorImpl& effector,
                                                                              torch::Generator& generator,
                                                                              bool evaluation) const {
  if (!evaluation) {
    auto start = random_joint_states(batch_size, effector, generator);
    return {start, fingertip(effector, random_joint_states(batch_size, effector, generator))};
  }
  auto index = torch::arange(batch_size, torch::kInt64).remainder(options_.n_targets());
  auto target = targets(effector).index_select(0, index).to(effector.tensor_options());
  return {start_posture_states(batch_size, effector), target};
}

// DelayedReach -----------------------------------------------------------------------------------------------

// The target is shown from its cue (target_cue_window; by default from the start), like every reaching task's:
// the options are taken as given (an earlier version reset the window to [0, 0], so a configured cue had no effect).
DelayedReach::DelayedReach(ReachTaskOptions options) : ReachTask(std::move(options)) {}

std::pair<torch::Tensor, torch::Tensor> DelayedReach::draw_start_and_target(int64_t batch_size,
                                                                            const EffectorImpl& effector,
                                                                            torch::Generator& generator,
                                                                            bool evaluation) const {
  return random_start_and_target(batch_size, effector, generator);
}

// PostureHold ------------------------------------------------------------------------------------------------

std::pair<torch::Tensor, torch::Tensor> PostureHold::draw_start_and_target(int64_t batch_size,
                                                                           const EffectorImpl& effector,
                                                                           torch::Generator& generator,
                                                                           bool evaluation) const {
  auto start = reach_options().start_posture() || evaluation ? start_posture_states(batch_size, effector)
                                                             : random_joint_states(batch_size, effector, generator);
  return {start, fingertip(effector, start)};
}

void PostureHold::compose(Trials& trials, int64_t n_steps) const {
  trials.target = trials.start;  // holding: the goal is where the hand starts
  ReachTask::compose(trials, n_steps);
  trials.inputs = trials.goal;
}

}  // namespace motornet
