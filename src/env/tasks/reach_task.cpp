#include "motornet/env/tasks/reach_task.h"

#include <fmt/format.h>

#include <cmath>

#include "motornet/core/error.h"

namespace motornet {

std::string Task::field_name(size_t index) const {
  const auto& field = fields_.at(index);
  return field->options().name().empty() ? fmt::format("{}_{}", field->type_name(), index) : field->options().name();
}

namespace {

int64_t to_steps(double seconds, double timestep) { return static_cast<int64_t>(std::llround(seconds / timestep)); }

// The window's shape was checked with the options (reach_task_option_table); here, that it fits the episode.
void check_window(const std::vector<double>& window, const char* key, double duration) {
  require(window[1] <= duration + 1e-12, key,
          fmt::format("the window [{}, {}] s ends after the episode ({} s)", window[0], window[1], duration));
}

// Cue steps drawn uniformly among the whole steps of the window, or its middle at evaluation.
torch::Tensor cue_steps(const std::vector<double>& window, int64_t batch_size, double timestep,
                        torch::Generator& generator, bool evaluation) {
  const int64_t earliest = to_steps(window[0], timestep), latest = to_steps(window[1], timestep);
  if (evaluation) return torch::full({batch_size}, (earliest + latest) / 2, torch::kInt64);
  return torch::randint(earliest, latest + 1, {batch_size}, generator, torch::kInt64);
}

}  // namespace

const OptionTable<ReachTaskOptions>& reach_task_option_table() {
  static const auto table =
      OptionTable<ReachTaskOptions>()
          .add(MOTORNET_OPTION(target_cue_window),
               "s: the target is shown from a time drawn in this window (the middle at evaluation); [0, 0]: from the start",
               checks::window())
          .add(MOTORNET_OPTION(go_cue_window), "s: the go cue comes at a time drawn in this window", checks::window())
          .add(MOTORNET_OPTION(catch_fraction), "fraction of trials without a go cue (drawn per trial, at evaluation too)", checks::fraction())
          .add(MOTORNET_OPTION(start_posture), "joint positions of the start (none: the task's default)");
  return table;
}

ReachTask::ReachTask(ReachTaskOptions options) : options_(std::move(options)) {
  reach_task_option_table().check(options_);
}

void ReachTask::validate(const EffectorImpl& effector, double timestep, int64_t n_steps) const {
  const double duration = n_steps * timestep;
  check_window(options_.target_cue_window(), "target_cue_window", duration);
  check_window(options_.go_cue_window(), "go_cue_window", duration);
  if (const auto& posture = options_.start_posture()) {
    const int64_t D = effector.dof();
    require(static_cast<int64_t>(posture->size()) == D, "start_posture",
            fmt::format("expected {} joint positions, got {}", D, posture->size()));
    const auto& bounds = effector.skeleton()->bounds();
    for (int64_t d = 0; d < D; ++d)
      require((*posture)[d] >= bounds.position_lower[d] && (*posture)[d] <= bounds.position_upper[d], "start_posture",
              fmt::format("joint {} at {} lies outside its bounds [{}, {}]", d, (*posture)[d], bounds.position_lower[d],
                          bounds.position_upper[d]));
  }
}

torch::Tensor ReachTask::random_joint_states(int64_t batch_size, const EffectorImpl& effector,
                                             torch::Generator& generator) {
  return effector.random_joint_state(batch_size, generator).detach();
}

torch::Tensor ReachTask::start_posture_states(int64_t batch_size, const EffectorImpl& effector) const {
  const auto& bounds = effector.skeleton()->bounds();
  std::vector<double> posture;
  if (options_.start_posture()) {
    posture = *options_.start_posture();
  } else {
    for (size_t d = 0; d < bounds.position_lower.size(); ++d)
      posture.push_back(0.5 * (bounds.position_lower[d] + bounds.position_upper[d]));
  }
  posture.resize(2 * posture.size(), 0.0);
  return torch::tensor(posture, torch::kFloat64).to(effector.tensor_options()).unsqueeze(0).repeat({batch_size, 1});
}

torch::Tensor ReachTask::fingertip(const EffectorImpl& effector, const torch::Tensor& joint_states) {
  torch::NoGradGuard no_grad;
  const int64_t S = effector.space_dim();
  return effector.skeleton()->joint_to_cartesian(joint_states).narrow(1, 0, S);
}

std::pair<torch::Tensor, torch::Tensor> ReachTask::random_start_and_target(int64_t batch_size,
                                                                           const EffectorImpl& effector,
                                                                           torch::Generator& generator) const {
  auto start = options_.start_posture() ? start_posture_states(batch_size, effector)
                                        : random_joint_states(batch_size, effector, generator);
  return {start, fingertip(effector, random_joint_states(batch_size, effector, generator))};
}

Trials ReachTask::sample(int64_t batch_size, int64_t n_steps, double timestep, const EffectorImpl& effector,
                         torch::Generator& generator, bool evaluation) const {
  Trials trials;
  auto [joint, target] = draw_start_and_target(batch_size, effector, generator, evaluation);
  trials.initial_joint = joint;
  trials.start = fingertip(effector, joint);
  trials.target = target;
  trials.target_cue_step = cue_steps(options_.target_cue_window(), batch_size, timestep, generator, evaluation);
  trials.go_cue_step = cue_steps(options_.go_cue_window(), batch_size, timestep, generator, evaluation);
  // The go cue never comes before the target is shown.
  trials.go_cue_step = torch::max(trials.go_cue_step, trials.target_cue_step);
  // Catch trials are drawn at evaluation too (from the evaluation's seed): catch_fraction 1 evaluates catch trials.
  if (options_.catch_fraction() == 0.0) {
    trials.catch_trial = torch::zeros({batch_size}, torch::kBool);
  } else {
    trials.catch_trial = torch::rand({batch_size}, generator, torch::kFloat64) < options_.catch_fraction();
  }
  trials.go_cue_step = torch::where(trials.catch_trial, torch::full_like(trials.go_cue_step, n_steps + 1),
                                    trials.go_cue_step);
  for (const auto& field : fields())
    trials.fields.push_back(field->sample(batch_size, effector.space_dim(), timestep, generator));
  return trials;
}

void ReachTask::compose(Trials& trials, int64_t n_steps) const {
  const int64_t B = trials.batch_size();
  auto options = trials.start.options();
  auto step = torch::arange(n_steps + 1, torch::kInt64).unsqueeze(0);  // [1, T+1]
  auto start = trials.start.unsqueeze(1).expand({B, n_steps + 1, trials.start.size(1)});
  auto target = trials.target.unsqueeze(1).expand_as(start);
  auto shown = (step >= trials.target_cue_step.unsqueeze(1)).unsqueeze(2);  // [B, T+1, 1]
  auto go = (step >= trials.go_cue_step.unsqueeze(1)).unsqueeze(2);
  trials.goal = torch::where(go, target, start);
  trials.inputs = torch::cat({torch::where(shown, target, start), start, go.to(options)}, 2);
}

}  // namespace motornet
