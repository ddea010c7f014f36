#include "motornet/rollout.h"

#include <fmt/format.h>

#include "motornet/error.h"

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
  std::vector<torch::Tensor> fingertip, velocity, goal, activation, force, hiddens, action, joint;
  std::vector<torch::Tensor> cartesian, muscle_states, geometry, observation;
  auto record = [&](const StepResult& step) {
    const auto& states = step.info.states;
    if (full) {
      cartesian.push_back(states.cartesian);
      muscle_states.push_back(states.muscle);
      geometry.push_back(states.geometry);
      observation.push_back(step.observation);
    }
    fingertip.push_back(step.info.fingertip.defined() ? step.info.fingertip : states.cartesian.narrow(1, 0, S));
    velocity.push_back(states.cartesian.narrow(1, S, S));
    goal.push_back(step.info.goal);
    activation.push_back(states.muscle.select(1, 0));
    force.push_back(states.muscle.select(1, force_row));
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
  episode.fingertip = torch::stack(fingertip, 1);
  episode.hand_velocity = torch::stack(velocity, 1);
  episode.goal = torch::stack(goal, 1);
  episode.activation = torch::stack(activation, 1);
  episode.force = torch::stack(force, 1);
  episode.hidden = torch::stack(hiddens, 1);
  episode.action = torch::stack(action, 1);
  episode.joint = torch::stack(joint, 1);
  const auto names = muscle->parameter_names();
  episode.max_isometric_force = std::find(names.begin(), names.end(), "max_isometric_force") != names.end()
                                    ? muscle->parameter("max_isometric_force")
                                    : torch::ones({effector->n_muscles()}, effector->tensor_options());
  episode.timestep = environment.timestep();
  if (full) {
    episode.cartesian = torch::stack(cartesian, 1);
    episode.muscle = torch::stack(muscle_states, 1);
    episode.geometry = torch::stack(geometry, 1);
    episode.observation = torch::stack(observation, 1);
  }
  return episode;
}

EpisodeRecord EpisodeRecord::rows(int64_t begin, int64_t count) const {
  auto part = [&](const torch::Tensor& series) { return series.defined() ? series.narrow(0, begin, count) : series; };
  EpisodeRecord out = *this;
  for (auto member : {&EpisodeRecord::fingertip, &EpisodeRecord::hand_velocity, &EpisodeRecord::goal,
                      &EpisodeRecord::activation, &EpisodeRecord::force, &EpisodeRecord::hidden, &EpisodeRecord::action,
                      &EpisodeRecord::joint, &EpisodeRecord::cartesian, &EpisodeRecord::muscle,
                      &EpisodeRecord::geometry, &EpisodeRecord::observation})
    out.*member = part(this->*member);
  return out;
}

}  // namespace motornet
