#include "motornet/control/rollout.h"

#include <fmt/format.h>

#include "motornet/core/error.h"

namespace motornet {

void require_policy_fits(const EnvironmentImpl& environment, const PolicyImpl& policy) {
  require_lazy(policy.input_size() == environment.observation_size(), "policy", [&] {
    return fmt::format("the policy takes {} inputs but the environment observes {}", policy.input_size(),
                       environment.observation_size());
  });
  require_lazy(policy.output_size() == environment.effector()->n_muscles(), "policy", [&] {
    return fmt::format("the policy drives {} outputs but the effector has {} muscles", policy.output_size(),
                       environment.effector()->n_muscles());
  });
}

EpisodeRecord rollout(EnvironmentImpl& environment, PolicyImpl& policy, const ResetOptions& reset, bool full) {
  require_policy_fits(environment, policy);
  const auto& effector = environment.effector();
  const auto& muscle = effector->muscle();
  const int64_t force_row = muscle->force_row(), S = effector->space_dim();

  auto result = environment.reset(reset);
  policy.start_episode();
  auto hidden = policy.initial_hidden(result.observation.size(0));
  // Whole states are kept per step and stacked once: the series below are views of the stacks (a per-step slice
  // would cost an autograd node per step and series).
  std::vector<torch::Tensor> goal, hiddens, action, joint, cartesian, muscle_states, geometry, observation;
  std::map<std::string, std::vector<torch::Tensor>> field_forces;
  auto record = [&](const StepResult& step) {
    const auto& states = step.info.states;
    cartesian.push_back(states.cartesian);
    muscle_states.push_back(states.muscle);
    if (full) {
      geometry.push_back(states.geometry);
      observation.push_back(step.observation);
      if (step.info.step > 0)  // the forces of the step just taken (none at reset)
        for (const auto& [name, force] : step.info.field_forces) field_forces[name].push_back(force);
    }
    goal.push_back(step.info.goal);
    joint.push_back(states.joint);
  };
  record(result);
  hiddens.push_back(hidden);
  for (int64_t t = 0; t < environment.n_steps(); ++t) {
    auto [act, next_hidden] = policy.forward(result.observation, hidden);
    hidden = next_hidden;
    result = environment.step(act);
    record(result);
    hiddens.push_back(hidden);
    action.push_back(act);
  }
  EpisodeRecord episode;
  auto all_cartesian = torch::stack(cartesian, 1), all_muscle = torch::stack(muscle_states, 1);
  episode.fingertip = all_cartesian.narrow(2, 0, S);
  episode.hand_velocity = all_cartesian.narrow(2, S, S);
  episode.goal = torch::stack(goal, 1);
  episode.activation = all_muscle.select(2, 0);
  episode.force = all_muscle.select(2, force_row);
  episode.hidden = torch::stack(hiddens, 1);
  episode.action = torch::stack(action, 1);
  episode.joint = torch::stack(joint, 1);
  const auto names = muscle->parameter_names();
  episode.max_isometric_force = std::find(names.begin(), names.end(), "max_isometric_force") != names.end()
                                    ? muscle->parameter("max_isometric_force")
                                    : torch::ones({effector->n_muscles()}, effector->tensor_options());
  episode.timestep = environment.timestep();
  episode.target_cue_step = environment.trials().target_cue_step;  // for losses over cue windows
  episode.go_cue_step = environment.trials().go_cue_step;
  if (full) {
    episode.cartesian = all_cartesian;
    episode.muscle = all_muscle;
    episode.geometry = torch::stack(geometry, 1);
    episode.observation = torch::stack(observation, 1);
    for (const auto& [name, forces] : field_forces) episode.field_forces[name] = torch::stack(forces, 1);
  }
  return episode;
}

EpisodeRecord EpisodeRecord::rows(int64_t begin, int64_t count) const {
  auto part = [&](const torch::Tensor& series) { return series.defined() ? series.narrow(0, begin, count) : series; };
  EpisodeRecord out = *this;
  for (auto member : {&EpisodeRecord::fingertip, &EpisodeRecord::hand_velocity, &EpisodeRecord::goal,
                      &EpisodeRecord::activation, &EpisodeRecord::force, &EpisodeRecord::hidden, &EpisodeRecord::action,
                      &EpisodeRecord::joint, &EpisodeRecord::cartesian, &EpisodeRecord::muscle,
                      &EpisodeRecord::geometry, &EpisodeRecord::observation, &EpisodeRecord::target_cue_step,
                      &EpisodeRecord::go_cue_step})
    out.*member = part(this->*member);
  for (auto& [name, forces] : out.field_forces) forces = part(forces);
  return out;
}

}  // namespace motornet
