#include "motornet/env/scenario.h"

#include <fmt/format.h>

#include "motornet/body/effector_config.h"
#include "motornet/env/environment_config.h"
#include "motornet/core/error.h"

namespace motornet {

namespace {

torch::Tensor vector_tensor(const std::vector<double>& values) { return torch::tensor(values, torch::kFloat64); }

nlohmann::json tensor_to_json(const torch::Tensor& tensor) {
  auto values = tensor.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  if (values.dim() == 0) return values.item<double>();
  nlohmann::json list = nlohmann::json::array();
  for (int64_t i = 0; i < values.size(0); ++i) list.push_back(tensor_to_json(values[i]));
  return list;
}

}  // namespace

Scenario scenario_from_config(const ConfigNode& file_root) {
  ConfigNode root = file_root.has("scenario") ? file_root.at("scenario") : file_root;
  root.require_map();
  const bool environment = root.has("environment");
  if (environment) {
    root.check_keys({"name", "effector", "initial_joint_state", "actions", "goal", "environment", "dtype"});
  } else {
    root.check_keys({"name", "effector", "initial_joint_state", "actions", "endpoint_load", "joint_load", "objective",
                     "dtype"});
  }
  Scenario scenario;
  scenario.name = root.get_string("name", "scenario");
  const std::string dtype = root.get_string("dtype", "float32");
  if (dtype == "float32") {
    scenario.dtype = torch::kFloat32;
  } else if (dtype == "float64") {
    scenario.dtype = torch::kFloat64;
  } else {
    root.at("dtype").fail(fmt::format("expected float32 or float64, got '{}'", dtype));
  }

  scenario.effector = effector_from_config(root.at("effector"));
  const auto& effector = scenario.effector;
  const int64_t D = effector->dof(), S = effector->space_dim(), M = effector->n_muscles();

  auto initial = root.at("initial_joint_state");
  auto initial_values = initial.as_doubles();
  if (static_cast<int64_t>(initial_values.size()) != 2 * D && static_cast<int64_t>(initial_values.size()) != D)
    initial.fail(fmt::format("expected {} numbers (positions then velocities) or {} positions, got {}", 2 * D, D,
                             initial_values.size()));
  // Positions only mean zero velocities; keep all 2D so that the gradient covers the velocities too.
  initial_values.resize(2 * D, 0.0);
  scenario.initial_joint_state = vector_tensor(initial_values);

  // Actions: one row of M numbers per step, or {steps: T, value: [M numbers]} held constant.
  auto actions = root.at("actions");
  std::vector<std::vector<double>> rows;
  if (actions.is_map()) {
    actions.check_keys({"steps", "value"});
    const int64_t steps = actions.at("steps").as_int();
    if (steps < 1) actions.at("steps").fail(fmt::format("must be at least 1, got {}", steps));
    rows.assign(steps, actions.at("value").as_doubles(M));
  } else {
    rows = actions.as_matrix(M);
    if (rows.empty()) actions.fail("expected at least one row of actions");
  }
  scenario.actions = torch::empty({static_cast<int64_t>(rows.size()), M}, torch::kFloat64);
  for (size_t t = 0; t < rows.size(); ++t) scenario.actions[t] = vector_tensor(rows[t]);

  auto optional_vector = [&](const char* key, int64_t size) {
    auto node = root.child(key);
    return node ? vector_tensor(node->as_doubles(size)) : torch::zeros({size}, torch::kFloat64);
  };
  scenario.endpoint_load = optional_vector("endpoint_load", S);
  scenario.joint_load = optional_vector("joint_load", D);

  if (environment) {
    scenario.goal = vector_tensor(root.at("goal").as_doubles(S));
    scenario.environment = environment_from_config(root.at("environment"), scenario.effector);
    return scenario;
  }
  auto objective = root.at("objective");
  objective.check_keys({"fingertip_weights"});
  scenario.fingertip_weights = vector_tensor(objective.at("fingertip_weights").as_doubles(S));
  return scenario;
}

SimulationResult run_scenario(const Scenario& scenario) {
  require(!scenario.is_environment(), scenario.name, "an environment scenario: use run_environment_scenario");
  auto& effector = scenario.effector;
  effector.ptr()->to(scenario.dtype);
  auto options = torch::TensorOptions().dtype(scenario.dtype);
  auto initial = scenario.initial_joint_state.to(options).clone().requires_grad_(true);
  auto actions = scenario.actions.to(options).clone().requires_grad_(true);
  auto endpoint_load = scenario.endpoint_load.to(options).unsqueeze(0);
  auto joint_load = scenario.joint_load.to(options).unsqueeze(0);
  auto weights = scenario.fingertip_weights.to(options);

  auto state = effector->reset(1, initial.unsqueeze(0));
  std::vector<EffectorState> states{state};
  auto objective = torch::zeros({}, options);
  const int64_t steps = actions.size(0);
  for (int64_t t = 0; t < steps; ++t) {
    state = effector->step(state, actions[t].unsqueeze(0), endpoint_load, joint_load);
    objective = objective + (state.fingertip().squeeze(0) * weights).sum();
    states.push_back(state);
  }

  SimulationResult result;
  auto stack = [&](auto member) {
    std::vector<torch::Tensor> per_step;
    for (const auto& s : states) per_step.push_back((s.*member).squeeze(0).detach());
    return torch::stack(per_step);
  };
  result.joint = stack(&EffectorState::joint);
  result.cartesian = stack(&EffectorState::cartesian);
  result.muscle = stack(&EffectorState::muscle);
  result.geometry = stack(&EffectorState::geometry);
  for (int64_t t = 0; t <= steps; ++t) {
    bool finite = torch::isfinite(result.joint[t]).all().item<bool>() &&
                  torch::isfinite(result.muscle[t]).all().item<bool>() &&
                  torch::isfinite(result.geometry[t]).all().item<bool>();
    if (!finite)
      throw InputError(scenario.name, fmt::format("the simulation produced non-finite states at step {} of {}", t, steps));
  }
  result.muscle_state_names = effector->muscle()->state_names();
  objective.backward();
  result.objective = objective.item<double>();
  result.grad_actions = actions.grad();
  result.grad_initial_joint = initial.grad();
  return result;
}

nlohmann::json to_json(const SimulationResult& result) {
  return {{"joint", tensor_to_json(result.joint)},
          {"cartesian", tensor_to_json(result.cartesian)},
          {"muscle", tensor_to_json(result.muscle)},
          {"geometry", tensor_to_json(result.geometry)},
          {"muscle_state_names", result.muscle_state_names},
          {"objective", result.objective},
          {"grad_actions", tensor_to_json(result.grad_actions)},
          {"grad_initial_joint", tensor_to_json(result.grad_initial_joint)}};
}

EnvironmentRun run_environment_scenario(const Scenario& scenario) {
  require(scenario.is_environment(), scenario.name, "not an environment scenario (no 'environment' block)");
  auto environment = scenario.environment;
  environment->to(scenario.dtype);
  auto options = torch::TensorOptions().dtype(scenario.dtype);
  torch::NoGradGuard no_grad;
  auto result = environment->reset(ResetOptions()
                                       .batch_size(1)
                                       .deterministic(true)
                                       .joint_state(scenario.initial_joint_state.to(options).unsqueeze(0))
                                       .target(scenario.goal.to(options).unsqueeze(0)));
  std::vector<torch::Tensor> observations{result.observation[0]}, fingertips{result.info.states.fingertip()[0]};
  EnvironmentRun run;
  for (int64_t t = 0; t < scenario.actions.size(0); ++t) {
    result = environment->step(scenario.actions[t].to(options).unsqueeze(0));
    observations.push_back(result.observation[0]);
    fingertips.push_back(result.info.states.fingertip()[0]);
  }
  run.observation = torch::stack(observations);
  run.fingertip = torch::stack(fingertips);
  run.terminated_at_last_step = result.terminated;
  if (!torch::isfinite(run.observation).all().item<bool>())
    throw InputError(scenario.name, "the simulation produced non-finite observations");
  return run;
}

nlohmann::json to_json(const EnvironmentRun& run) {
  return {{"observation", tensor_to_json(run.observation)},
          {"fingertip", tensor_to_json(run.fingertip)},
          {"terminated_at_last_step", run.terminated_at_last_step}};
}

nlohmann::json simulate(const Scenario& scenario) {
  return scenario.is_environment() ? to_json(run_environment_scenario(scenario)) : to_json(run_scenario(scenario));
}

}  // namespace motornet
