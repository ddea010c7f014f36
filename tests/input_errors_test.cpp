// Bad input: every documented error gives one InputError naming the configuration path and the problem.

#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

// A valid custom scenario; each test breaks one thing in it.
const std::string kValid = R"(
name: valid
effector:
  skeleton: {type: TwoDofArm}
  muscle: {type: RigidTendonHillMuscle}
  muscles:
    - {name: a, fixation_body: [0, 1], coordinates: [[-0.05, 0.0], [0.1, 0.02]],
       max_isometric_force: 60, tendon_length: 0.053, optimal_muscle_length: 0.0795}
    - {name: b, fixation_body: [1, 2], coordinates: [[0.1, 0.02], [0.05, 0.015]],
       max_isometric_force: 60, tendon_length: 0.0882, optimal_muscle_length: 0.1324}
  timestep: 0.01
initial_joint_state: [0.9, 1.1, 0, 0]
actions: [[0.1, 0.2], [0.3, 0.4]]
objective: {fingertip_weights: [1.0, 2.0]}
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "test bug: '" << from << "' not in the scenario";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// Loads and runs `yaml`; expects an InputError at `path` whose message contains `fragment`.
void expect_error(const std::string& yaml, const std::string& path, const std::string& fragment) {
  try {
    run_scenario(scenario_from_config(ConfigNode::parse(yaml, "test.yaml")));
    ADD_FAILURE() << "no error; expected one at " << path;
  } catch (const InputError& error) {
    EXPECT_EQ(error.path(), path) << error.what();
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
  }
}

TEST(InputErrors, TheValidScenarioRuns) {
  auto result = run_scenario(scenario_from_config(ConfigNode::parse(kValid)));
  EXPECT_EQ(result.joint.size(0), 3);
}

TEST(InputErrors, UnknownNames) {
  expect_error(replace(kValid, "skeleton: {type: TwoDofArm}", "preset: ReluPointMas24"), "effector.preset",
               "unknown preset 'ReluPointMas24' (did you mean 'ReluPointMass24'?)");
  expect_error(replace(kValid, "type: TwoDofArm", "type: ThreeDofArm"), "effector.skeleton.type",
               "unknown skeleton type 'ThreeDofArm'");
  expect_error(replace(kValid, "type: RigidTendonHillMuscle", "type: RigidTendonMuscle"), "effector.muscle.type",
               "unknown muscle type 'RigidTendonMuscle'");
  expect_error(replace(kValid, "timestep: 0.01", "integration_method: rk5"), "effector.integration_method",
               "unknown integration method 'rk5'");
}

TEST(InputErrors, TypedChoicesAreReadByTheirNamesAndAnUnknownNameListsThem) {
  // Integration method, kernels, optimizer and schedule are enums in their options structs; YAML gives names.
  const auto optimizer =
      optimizer_option_table().read(ConfigNode(YAML::Load("{type: AdamW, schedule: step}"), "optimizer"));
  EXPECT_EQ(optimizer.type(), OptimizerType::kAdamW);
  EXPECT_EQ(optimizer.schedule(), ScheduleType::kStep);
  const auto effector = effector_option_table().read(
      ConfigNode(YAML::Load("{integration_method: Runge-Kutta-4, kernels: op_by_op}"), "effector"));
  EXPECT_EQ(effector.integration_method(), IntegrationMethod::kRungeKutta4);
  EXPECT_EQ(effector.kernels(), KernelChoice::kOpByOp);
  // Written back (config listings, key tables) by the first name of each value; aliases are not listed.
  EXPECT_EQ(enum_name(IntegrationMethod::kRungeKutta4), "rk4");
  EXPECT_EQ(enum_name(KernelChoice::kOpByOp), "op-by-op");
  EXPECT_EQ(canonical_names<KernelChoice>(), (std::vector<std::string>{"auto", "fused", "op-by-op"}));
  try {
    optimizer_option_table().read(ConfigNode(YAML::Load("{schedule: cosin}"), "optimizer"));
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), "optimizer.schedule");
    EXPECT_NE(e.problem().find("unknown schedule 'cosin' (did you mean 'cosine'?); use constant, step, cosine"),
              std::string::npos)
        << e.what();
  }
}

TEST(InputErrors, UnknownKeysAreNotIgnored) {
  expect_error(replace(kValid, "tendon_length: 0.053", "tendon_lenght: 0.053"), "effector.muscles[0].tendon_lenght",
               "did you mean 'tendon_length'?");
  expect_error(replace(kValid, "muscle: {type: RigidTendonHillMuscle}", "muscle: {type: RigidTendonHillMuscle, tau_activaton: 0.01}"),
               "effector.muscle.tau_activaton", "did you mean 'tau_activation'?");
  expect_error(replace(kValid, "timestep: 0.01", "time_step: 0.01"), "effector.time_step", "did you mean 'timestep'?");
  expect_error(replace(kValid, "skeleton: {type: TwoDofArm}", "skeleton: {type: TwoDofArm, mass1: 2}"),
               "effector.skeleton.mass1", "unknown key");
  expect_error(replace(kValid, "name: valid", "name: valid\nactoins: []"), "actoins", "did you mean 'actions'?");
  expect_error(replace(kValid, "objective: {fingertip_weights: [1.0, 2.0]}", "objective: {weights: [1.0, 2.0]}"),
               "objective.weights", "unknown key");
}

TEST(InputErrors, MissingValues) {
  expect_error(replace(kValid, "max_isometric_force: 60, tendon_length: 0.053", "tendon_length: 0.053"),
               "effector.muscles[0]", "muscle 'a' is missing parameter 'max_isometric_force'");
  expect_error(replace(kValid, "initial_joint_state: [0.9, 1.1, 0, 0]", ""), "initial_joint_state",
               "required key is missing");
  expect_error(replace(kValid, "muscle: {type: RigidTendonHillMuscle}", "muscle: {}"), "effector.muscle.type",
               "required key is missing");
}

TEST(InputErrors, WrongVectorLengths) {
  expect_error(replace(kValid, "[[-0.05, 0.0], [0.1, 0.02]]", "[[-0.05, 0.0, 0.1], [0.1, 0.02]]"),
               "effector.muscles[0].coordinates[0]", "expected 2 values (the skeleton's space_dim), got 3");
  expect_error(replace(kValid, "timestep: 0.01", "pos_upper_bound: [1, 2, 3]"), "effector.pos_upper_bound",
               "expected 1 value or one per degree of freedom (2), got 3");
  expect_error(replace(kValid, "[[0.1, 0.2], [0.3, 0.4]]", "[[0.1, 0.2], [0.3, 0.4, 0.5]]"), "actions[1]",
               "expected 2 numbers, got 3");
  expect_error(replace(kValid, "[0.9, 1.1, 0, 0]", "[0.9, 1.1, 0]"), "initial_joint_state",
               "expected 4 numbers (positions then velocities) or 2 positions, got 3");
  expect_error(replace(kValid, "name: valid", "name: valid\nendpoint_load: [1, 2, 3]"), "endpoint_load",
               "expected 2 numbers, got 3");
  expect_error(replace(kValid, "name: valid", "name: valid\njoint_load: [1]"), "joint_load", "expected 2 numbers, got 1");
  expect_error(replace(kValid, "fingertip_weights: [1.0, 2.0]", "fingertip_weights: [1.0]"), "objective.fingertip_weights",
               "expected 2 numbers, got 1");
  expect_error(replace(kValid, "fixation_body: [0, 1], coordinates: [[-0.05, 0.0], [0.1, 0.02]]",
                       "fixation_body: [0, 1, 1], coordinates: [[-0.05, 0.0], [0.1, 0.02]]"),
               "effector.muscles[0].coordinates", "expected one coordinate row per fixation point (3), got 2");
}

TEST(InputErrors, NonPositiveValues) {
  expect_error(replace(kValid, "timestep: 0.01", "timestep: 0"), "effector.timestep", "must be positive");
  expect_error(replace(kValid, "timestep: 0.01", "timestep: -0.01"), "effector.timestep", "must be positive");
  expect_error(replace(kValid, "timestep: 0.01", "n_ministeps: 0"), "effector.n_ministeps", "must be at least 1");
  expect_error(replace(kValid, "skeleton: {type: TwoDofArm}", "skeleton: {type: PointMass, mass: 0}"),
               "effector.skeleton.mass", "must be positive");
  expect_error(replace(kValid, "skeleton: {type: TwoDofArm}", "skeleton: {type: TwoDofArm, m2: -1}"),
               "effector.skeleton.m2", "must be positive");
  expect_error(replace(kValid, "max_isometric_force: 60, tendon_length: 0.053", "max_isometric_force: -60, tendon_length: 0.053"),
               "effector.muscles[0].max_isometric_force", "must be positive");
  expect_error(replace(kValid, "timestep: 0.01", "damping: -1"), "effector.damping", "non-negative");
  expect_error(replace(kValid, "skeleton: {type: TwoDofArm}", "skeleton: {type: PointMass, space_dim: 0}"),
               "effector.skeleton.space_dim", "must be at least 1");
}

TEST(InputErrors, PathsAndBodies) {
  expect_error(replace(kValid, "fixation_body: [0, 1], coordinates: [[-0.05, 0.0], [0.1, 0.02]]",
                       "fixation_body: [0], coordinates: [[-0.05, 0.0]]"),
               "effector.muscles[0].fixation_body", "a muscle path needs at least 2 points, got 1");
  expect_error(replace(kValid, "fixation_body: [1, 2]", "fixation_body: [1, 3]"), "effector.muscles[1].fixation_body",
               "body 3 does not exist: TwoDofArm has bodies 0 to 2");
  expect_error(replace(kValid, "fixation_body: [1, 2]", "fixation_body: [1, 1.5]"), "effector.muscles[1].fixation_body",
               "whole numbers");
  expect_error(replace(kValid, "muscles:\n", "muscles: []\n  unused:\n"), "effector.unused", "unknown key");
}

TEST(InputErrors, NonFiniteNumbers) {
  expect_error(replace(kValid, "tendon_length: 0.053", "tendon_length: .nan"), "effector.muscles[0].tendon_length",
               "expected a finite number");
  expect_error(replace(kValid, "[0.9, 1.1, 0, 0]", "[0.9, .inf, 0, 0]"), "initial_joint_state[1]",
               "expected a finite number");
  expect_error(replace(kValid, "[[0.1, 0.2], [0.3, 0.4]]", "[[0.1, 0.2], [0.3, .nan]]"), "actions[1][1]",
               "expected a finite number");
  expect_error(replace(kValid, "timestep: 0.01", "timestep: ten"), "effector.timestep", "expected a number");
}

TEST(InputErrors, InitialStateOutsideTheBounds) {
  expect_error(replace(kValid, "[0.9, 1.1, 0, 0]", "[-0.1, 1.1, 0, 0]"), "initial_joint_state",
               "a joint position lies outside the position bounds");
  expect_error(replace(kValid, "[0.9, 1.1, 0, 0]", "[0.9, 1.1, 0, 5000]"), "initial_joint_state",
               "a joint velocity lies outside the velocity bounds");
  expect_error(replace(kValid, "timestep: 0.01", "pos_lower_bound: 1.0"), "initial_joint_state",
               "outside the position bounds");
  expect_error(replace(kValid, "timestep: 0.01", "pos_lower_bound: 3.0"), "effector.pos_lower_bound",
               "is not below the upper bound");
}

TEST(InputErrors, PresetMuscleConstraints) {
  const std::string preset = R"(
effector: {preset: ReluPointMass24, muscle: {type: RigidTendonHillMuscle}}
initial_joint_state: [0, 0, 0, 0]
actions: [[0, 0, 0, 0]]
objective: {fingertip_weights: [1, 1]}
)";
  expect_error(preset, "effector.muscle.type", "preset ReluPointMass24 cannot use RigidTendonHillMuscle");
  expect_error(replace(preset, "preset: ReluPointMass24, muscle: {type: RigidTendonHillMuscle}",
                       "preset: Reacher, muscle: {type: RigidTendonHillMuscle}"),
               "effector.muscle", "muscle 'sf' is missing parameter 'tendon_length'");
  expect_error(replace(preset, "preset: ReluPointMass24, muscle: {type: RigidTendonHillMuscle}",
                       "preset: ReluPointMass24, muscles: []"),
               "effector.muscles", "unknown key");
}

TEST(InputErrors, UnreadableOrMalformedFiles) {
  try {
    ConfigNode::load_file("/nonexistent/scenario.yaml");
    ADD_FAILURE() << "no error";
  } catch (const InputError& error) {
    EXPECT_EQ(error.path(), "/nonexistent/scenario.yaml");
    EXPECT_NE(std::string(error.what()).find("cannot open"), std::string::npos);
  }
  try {
    ConfigNode::parse("effector: {preset: [unclosed\n", "broken.yaml");
    ADD_FAILURE() << "no error";
  } catch (const InputError& error) {
    EXPECT_EQ(error.path(), "broken.yaml");
    EXPECT_NE(std::string(error.what()).find("malformed YAML/JSON at line"), std::string::npos) << error.what();
  }
  try {
    ConfigNode::parse("- just\n- a list\n", "list.yaml");
    ADD_FAILURE() << "no error";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("expected a map"), std::string::npos) << error.what();
  }
}

TEST(InputErrors, DuplicateKeysAreRefusedAtAnyDepth) {
  // At the top level, inside a nested map and inside a map in a list, in block and flow style.
  expect_error(kValid + "initial_joint_state: [1.0, 1.0, 0, 0]\n", "test.yaml",
               "the key 'initial_joint_state' is given twice (lines 12 and 15)");
  expect_error(replace(kValid, "timestep: 0.01", "timestep: 0.01\n  timestep: 0.002"), "test.yaml",
               "the key 'effector.timestep' is given twice");
  expect_error(replace(kValid, "{name: a,", "{name: a, name: c,"), "test.yaml",
               "the key 'effector.muscles[0].name' is given twice");
}

TEST(InputErrors, CppApiShapesAreChecked) {
  auto effector = make_rigid_tendon_arm26();
  auto state = effector->reset(2, torch::tensor({{0.7, 1.0}}));
  EXPECT_THROW(effector->step(state, torch::zeros({2, 5})), InputError);
  EXPECT_THROW(effector->step(state, torch::zeros({3, 6})), InputError);
  EXPECT_THROW(effector->step(state, torch::zeros({2, 6}), torch::zeros({2, 3})), InputError);
  EXPECT_THROW(effector->step(state, torch::zeros({2, 6}), {}, torch::zeros({5})), InputError);
  EXPECT_THROW(effector->reset(2, torch::zeros({1, 3})), InputError);
  EXPECT_THROW(effector->reset(0), InputError);
  EXPECT_THROW(effector->reset(1, torch::tensor({{0.7, std::nan("")}})), InputError);
  EXPECT_THROW(make_muscle("NoSuchMuscle"), InputError);
  EXPECT_THROW(make_preset("NoSuchPreset"), InputError);
  EXPECT_THROW(PointMass(PointMassOptions().mass(-1.0)), InputError);
}

}  // namespace
}  // namespace motornet
