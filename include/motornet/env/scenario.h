#pragma once
// Open-loop scenarios (the schema of tests/data/golden/README.md): an effector, an initial joint state, one
// action per step, constant loads and a linear objective on the fingertip. Running one returns every state,
// the objective J = sum_{t=1..T} w · fingertip_t and its gradients with respect to the actions and the initial
// joint state (through the initial muscle and geometry states too).

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "motornet/core/config.h"
#include "motornet/body/effector.h"
#include "motornet/env/environment.h"

namespace motornet {

struct Scenario {
  std::string name;
  Effector effector{nullptr};
  torch::Dtype dtype = torch::kFloat32;
  torch::Tensor initial_joint_state;  // [2D], float64
  torch::Tensor actions;              // [T, M], float64
  torch::Tensor endpoint_load;        // [S] (zero when absent)
  torch::Tensor joint_load;           // [D] (zero when absent)
  torch::Tensor fingertip_weights;    // [S] (effector scenarios)
  // Environment scenarios: the environment around `effector`, and the goal [S] that replaces the drawn one.
  Environment environment{nullptr};
  torch::Tensor goal;

  bool is_environment() const { return !environment.is_empty(); }
};

// Reads a scenario; a file holding {"scenario": ...} (a golden file) is read from that key.
Scenario scenario_from_config(const ConfigNode& root);

struct SimulationResult {
  torch::Tensor joint, cartesian, muscle, geometry;  // [T+1, ...], index 0 is the state after reset
  std::vector<std::string> muscle_state_names;
  double objective = 0.0;
  torch::Tensor grad_actions;        // [T, M]
  torch::Tensor grad_initial_joint;  // [2D]
};

// Runs the scenario in its dtype. A non-finite state is an error naming the step.
SimulationResult run_scenario(const Scenario& scenario);

// The result with the keys of the golden files' `expected` block.
nlohmann::json to_json(const SimulationResult& result);

// Environment scenarios: reset with the initial joint state and the goal, then deterministic steps.
struct EnvironmentRun {
  torch::Tensor observation;  // [T+1, obs], index 0 from reset
  torch::Tensor fingertip;    // [T+1, S]
  bool terminated_at_last_step = false;
};
EnvironmentRun run_environment_scenario(const Scenario& scenario);
nlohmann::json to_json(const EnvironmentRun& run);

// Runs either kind of scenario and returns its JSON result (what motornet-simulate writes).
nlohmann::json simulate(const Scenario& scenario);

}  // namespace motornet
