// Golden parity: every effector and environment case of tests/data/golden (copied from shared/golden) reproduced within the
// tolerances of its README, in float32 and float64; both with the default kernels (fused where the models have
// them) and with `kernels: op-by-op` (the reference path). A parameter "case@op-by-op" selects the latter.

#include <gtest/gtest.h>

#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

using testing::data_path;
using testing::json_to_tensor;

struct GoldenCase {
  nlohmann::json file;
  Scenario scenario;
};

GoldenCase load_case(const std::string& parameter) {
  const auto at = parameter.find('@');
  const std::string name = parameter.substr(0, at);
  std::string text = testing::read_text(data_path("golden/" + name + ".json"));
  GoldenCase golden{nlohmann::json::parse(text), {}};
  auto config = golden.file;
  if (at != std::string::npos) config["scenario"]["effector"]["kernels"] = parameter.substr(at + 1);
  golden.scenario = scenario_from_config(ConfigNode::parse(config.dump(), name));
  return golden;
}

// Every case with the default kernels and again op by op.
std::vector<std::string> with_both_kernels(const std::vector<std::string>& cases) {
  auto all = cases;
  for (const auto& name : cases) all.push_back(name + "@op-by-op");
  return all;
}

std::string test_name(const std::string& parameter) {
  std::string name = parameter;
  for (auto& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

class EffectorGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(EffectorGolden, Float32WithinTolerance) {
  auto golden = load_case(GetParam());
  auto result = run_scenario(golden.scenario);
  const auto& expected = golden.file["expected"];
  EXPECT_WITHIN(result.joint, json_to_tensor(expected["joint"]), 1e-4, 1e-4, "joint");
  EXPECT_WITHIN(result.cartesian, json_to_tensor(expected["cartesian"]), 1e-4, 1e-4, "cartesian");
  EXPECT_WITHIN(result.geometry, json_to_tensor(expected["geometry"]), 1e-4, 1e-4, "geometry");
  EXPECT_WITHIN(result.muscle, json_to_tensor(expected["muscle"]), 1e-3, 1e-4, "muscle");
  EXPECT_WITHIN(torch::tensor(result.objective, torch::kFloat64), json_to_tensor(expected["objective"]), 1e-3, 1e-3, "objective");
  EXPECT_WITHIN(result.grad_actions, json_to_tensor(expected["grad_actions"]), 1e-3, 1e-3, "grad_actions");
  EXPECT_WITHIN(result.grad_initial_joint, json_to_tensor(expected["grad_initial_joint"]), 1e-3, 1e-3,
                "grad_initial_joint");
  EXPECT_EQ(result.muscle_state_names, expected["muscle_state_names"].get<std::vector<std::string>>());
}

TEST_P(EffectorGolden, Float64Exact) {
  auto golden = load_case(GetParam());
  golden.scenario.dtype = torch::kFloat64;
  auto result = run_scenario(golden.scenario);
  const auto& expected = golden.file["expected_float64"];
  for (const char* key : {"joint", "cartesian", "muscle", "geometry"}) {
    torch::Tensor actual = key == std::string("joint")       ? result.joint
                           : key == std::string("cartesian") ? result.cartesian
                           : key == std::string("muscle")    ? result.muscle
                                                             : result.geometry;
    EXPECT_WITHIN(actual, json_to_tensor(expected[key]), 1e-8, 1e-8, key);
  }
  EXPECT_WITHIN(torch::tensor(result.objective, torch::kFloat64), json_to_tensor(expected["objective"]), 1e-8, 1e-8, "objective");
  EXPECT_WITHIN(result.grad_actions, json_to_tensor(expected["grad_actions"]), 1e-8, 1e-8, "grad_actions");
  EXPECT_WITHIN(result.grad_initial_joint, json_to_tensor(expected["grad_initial_joint"]), 1e-8, 1e-8,
                "grad_initial_joint");
}

INSTANTIATE_TEST_SUITE_P(Golden, EffectorGolden,
                         ::testing::ValuesIn(with_both_kernels({"pm24_relu", "freepm24_relu", "reacher_relu",
                                                                "arm26_rigid", "arm26_thelen", "arm26_mujoco",
                                                                "arm26_compliant_rk4", "arm26_loads_rk4_ministeps",
                                                                "custom_arm_paths"})),
                         [](const auto& info) { return test_name(info.param); });

class EnvironmentGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(EnvironmentGolden, Float32WithinTolerance) {
  auto golden = load_case(GetParam());
  auto run = run_environment_scenario(golden.scenario);
  const auto& expected = golden.file["expected"];
  EXPECT_WITHIN(run.observation, json_to_tensor(expected["observation"]), 1e-4, 1e-4, "observation");
  EXPECT_WITHIN(run.fingertip, json_to_tensor(expected["fingertip"]), 1e-4, 1e-4, "fingertip");
  EXPECT_EQ(run.terminated_at_last_step, expected["terminated_at_last_step"].get<bool>());
}

TEST_P(EnvironmentGolden, Float64Exact) {
  auto golden = load_case(GetParam());
  golden.scenario.dtype = torch::kFloat64;
  auto run = run_environment_scenario(golden.scenario);
  const auto& expected = golden.file["expected_float64"];
  EXPECT_WITHIN(run.observation, json_to_tensor(expected["observation"]), 1e-8, 1e-8, "observation");
  EXPECT_WITHIN(run.fingertip, json_to_tensor(expected["fingertip"]), 1e-8, 1e-8, "fingertip");
  EXPECT_EQ(run.terminated_at_last_step, expected["terminated_at_last_step"].get<bool>());
}

INSTANTIATE_TEST_SUITE_P(Golden, EnvironmentGolden,
                         ::testing::ValuesIn(with_both_kernels({"env_pm24_delays", "env_arm26_delays"})),
                         [](const auto& info) { return test_name(info.param); });

}  // namespace
}  // namespace motornet
