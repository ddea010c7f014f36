// The environment's fused step against the op-by-op environment. On the CPU a whole time step (motor noise, the
// fused fields, the effector, the senses, the delayed observation with stacked actions and its noise) is one
// autograd node; these tests run the same episodes (same seeds, same actions) with `kernels: fused` and
// `op-by-op` effectors and hold every observation, state and the gradient of a loss over all of them with
// respect to every action equal, for each configuration the step node handles, in float64 and float32.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

using testing::compare;

enum class Fields { kNone, kCurl, kEveryType };

struct EnvironmentCase {
  std::string name;
  EnvironmentOptions options;
  Fields fields;
  const char* fused_node;  // the node that makes a step's observation on the fused path
};
void PrintTo(const EnvironmentCase& c, std::ostream* os) { *os << c.name; }

struct Episode {
  std::vector<torch::Tensor> observations, fingertips, muscles;
  std::string observation_node;
  torch::Tensor action_grad;
};

Episode run(const EnvironmentCase& c, const char* kernels, torch::Dtype dtype, const torch::Tensor& actions) {
  auto effector = make_relu_point_mass24(nullptr, EffectorOptions().kernels(parse_kernel_choice(kernels)));
  effector->to(dtype);
  TaskPtr task = std::make_shared<RandomTargetReach>();
  if (c.fields == Fields::kCurl) task->add_field(std::make_shared<CurlField>(20.0));
  if (c.fields == Fields::kEveryType) {
    // Go cues inside the episode; every field with a window, a fraction or the go cue, so that steps and trials
    // with and without each are in the episode.
    task = std::make_shared<CentreOutReach>(CentreOutReachOptions(), ReachTaskOptions().go_cue_window({0.05, 0.15}));
    auto window = ForceFieldOptions().start_time(0.03).end_time(0.2);
    task->add_field(std::make_shared<CurlField>(15.0, ForceFieldOptions().off_before_go_cue(true)));
    task->add_field(std::make_shared<ViscousField>(2.0, ForceFieldOptions(window).fraction(0.5)));
    task->add_field(std::make_shared<ConstantLoad>(std::vector<double>{0.5, -0.3}, window));
    task->add_field(std::make_shared<ForcePulse>(
        ForcePulseOptions().magnitude(3.0).duration(0.03).onset_earliest(0.04).onset_latest(0.12).directions(
            {{1.0, 0.0}, {0.0, 1.0}})));
    task->add_field(std::make_shared<ForceChannel>(
        500.0, 10.0, ForceFieldOptions().fraction(0.6).off_before_go_cue(true)));
  }
  Environment environment(effector, task, EnvironmentOptions(c.options).seed(7));
  Episode episode;
  auto leaf = actions.to(dtype).detach().requires_grad_(true);
  auto result = environment->reset(ResetOptions().batch_size(actions.size(1)));
  episode.observations.push_back(result.observation);
  for (int64_t t = 0; t < actions.size(0); ++t) {
    result = environment->step(leaf[t]);
    episode.observations.push_back(result.observation);
    episode.fingertips.push_back(result.info.states.fingertip());
    episode.muscles.push_back(result.info.states.muscle);
    if (t + 1 == actions.size(0)) episode.observation_node = result.observation.grad_fn() ? result.observation.grad_fn()->name() : "";
  }
  // A loss that reaches every step through the observations and the states.
  torch::manual_seed(3);
  auto loss = torch::zeros({}, leaf.options());
  for (const auto& series : {episode.observations, episode.fingertips, episode.muscles})
    for (const auto& x : series) loss = loss + (x * torch::randn(x.sizes(), x.options())).sum();
  loss.backward();
  episode.action_grad = leaf.grad();
  return episode;
}

class FusedEnvironment : public ::testing::TestWithParam<EnvironmentCase> {};

TEST_P(FusedEnvironment, EqualsOpByOpInObservationsStatesAndGradients) {
  const auto& c = GetParam();
  torch::manual_seed(11);
  const auto actions = torch::rand({25, 5, 4}, torch::kFloat64) * 1.2 - 0.1;  // some outside [0, 1]
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const bool f64 = dtype == torch::kFloat64;
    const double absolute = f64 ? 1e-10 : 2e-5, relative = f64 ? 1e-10 : 2e-5;
    const auto fused = run(c, "fused", dtype, actions), reference = run(c, "op-by-op", dtype, actions);
    EXPECT_NE(fused.observation_node.find(c.fused_node), std::string::npos)
        << "the observation came from " << fused.observation_node;
    for (size_t t = 0; t < fused.observations.size(); ++t) {
      auto report = compare(fused.observations[t], reference.observations[t], absolute, relative);
      EXPECT_LE(report.worst_ratio, 1.0) << "observation at step " << t << (f64 ? " f64" : " f32") << ": "
                                         << report.actual << " vs " << report.expected;
    }
    for (size_t t = 0; t < fused.fingertips.size(); ++t) {
      EXPECT_LE(compare(fused.fingertips[t], reference.fingertips[t], absolute, relative).worst_ratio, 1.0) << t;
      EXPECT_LE(compare(fused.muscles[t], reference.muscles[t], absolute, relative).worst_ratio, 1.0) << t;
    }
    ASSERT_TRUE(fused.action_grad.defined() && reference.action_grad.defined());
    EXPECT_GT(reference.action_grad.abs().max().item<double>(), 0.0);
    auto report = compare(fused.action_grad, reference.action_grad, f64 ? 1e-9 : 1e-3, f64 ? 1e-9 : 1e-3);
    EXPECT_LE(report.worst_ratio, 1.0) << (f64 ? "f64" : "f32") << " action gradient " << report.actual << " vs "
                                       << report.expected << " at " << report.worst_index;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Paths, FusedEnvironment,
    ::testing::Values(
        // Observation straight from the step node.
        EnvironmentCase{"NoDelayNoNoise", EnvironmentOptions().max_ep_duration(0.25), Fields::kNone, "FusedEnvironmentStep"},
        EnvironmentCase{"NoDelaySensoryNoise",
                        EnvironmentOptions().max_ep_duration(0.25).vision_noise(0.01).proprioception_noise(0.02).action_noise(0.01),
                        Fields::kNone, "FusedEnvironmentStep"},
        EnvironmentCase{"NoDelayCurlField", EnvironmentOptions().max_ep_duration(0.25).vision_noise(0.01), Fields::kCurl,
                        "FusedEnvironmentStep"},
        EnvironmentCase{"EveryFieldType", EnvironmentOptions().max_ep_duration(0.25).vision_noise(0.01),
                        Fields::kEveryType, "FusedEnvironmentStep"},
        EnvironmentCase{"EveryFieldTypeWithDelays",
                        EnvironmentOptions().max_ep_duration(0.25).vision_delay(0.05).proprioception_delay(0.02)
                            .action_noise(0.01),
                        Fields::kEveryType, "FusedEnvironmentStep"},
        // Delayed senses and earlier actions read from earlier steps' nodes, noise added inside.
        EnvironmentCase{"Delays",
                        EnvironmentOptions().max_ep_duration(0.25).vision_delay(0.05).proprioception_delay(0.02)
                            .vision_noise(0.01).proprioception_noise(0.02),
                        Fields::kNone, "FusedEnvironmentStep"},
        EnvironmentCase{"ObservationNoise", EnvironmentOptions().max_ep_duration(0.25).obs_noise({0.03}), Fields::kNone,
                        "FusedEnvironmentStep"},
        EnvironmentCase{"ActionFrames", EnvironmentOptions().max_ep_duration(0.25).action_frame_stacking(2), Fields::kNone,
                        "FusedEnvironmentStep"},
        EnvironmentCase{"OneActionFrameWithMotorNoise",
                        EnvironmentOptions().max_ep_duration(0.25).action_frame_stacking(1).action_noise(0.02),
                        Fields::kNone, "FusedEnvironmentStep"},
        // Everything at once: unequal delays (one of them a single step), three stacked noisy actions, noise on
        // the senses and on the observation, every field type.
        EnvironmentCase{"Everything",
                        EnvironmentOptions().max_ep_duration(0.25).vision_delay(0.04).action_frame_stacking(3)
                            .action_noise(0.01).vision_noise(0.01).proprioception_noise(0.02).obs_noise({0.03}),
                        Fields::kEveryType, "FusedEnvironmentStep"},
        EnvironmentCase{"EverythingWithNoisePerEntry",
                        EnvironmentOptions().max_ep_duration(0.25).proprioception_delay(0.03).action_frame_stacking(2)
                            .action_noise(0.01).obs_noise(std::vector<double>(5 + 2 + 8 + 8, 0.02)),
                        Fields::kEveryType, "FusedEnvironmentStep"}),
    [](const ::testing::TestParamInfo<EnvironmentCase>& info) { return info.param.name; });

// Same seed, same actions: the same bits in every observation and gradient, run after run.
TEST(FusedEnvironment, ASeedGivesTheSameBitsEveryRun) {
  const EnvironmentCase c{"Everything",
                          EnvironmentOptions().max_ep_duration(0.25).vision_delay(0.04).action_frame_stacking(2)
                              .action_noise(0.01).vision_noise(0.01).proprioception_noise(0.02).obs_noise({0.03}),
                          Fields::kEveryType, "FusedEnvironmentStep"};
  torch::manual_seed(5);
  const auto actions = torch::rand({25, 5, 4}, torch::kFloat64);
  for (auto options : {c.options, EnvironmentOptions().max_ep_duration(0.25).action_noise(0.01)}) {
    const EnvironmentCase run_case{c.name, options, c.fields, c.fused_node};
    const auto first = run(run_case, "fused", torch::kFloat32, actions.narrow(0, 0, 10));
    const auto second = run(run_case, "fused", torch::kFloat32, actions.narrow(0, 0, 10));
    for (size_t t = 0; t < first.observations.size(); ++t)
      EXPECT_TRUE(torch::equal(first.observations[t], second.observations[t])) << "observation " << t;
    EXPECT_TRUE(torch::equal(first.action_grad, second.action_grad))
        << (first.action_grad - second.action_grad).abs().max().item<double>();
  }
}

// The closed loop as training runs it: a GRU policy drives the environment and the losses read the stacked
// episode record, whose gradients reach the step nodes as strided views. Every parameter's gradient equals the
// op-by-op environment's, for a task with delays, every kind of noise, stacked actions and fields.
TEST(FusedEnvironment, TrainingGradientsThroughAPolicyEqualOpByOp) {
  std::map<std::string, torch::Tensor> gradients[2];
  double loss_values[2];
  const char* kernels[2] = {"fused", "op-by-op"};
  for (int i = 0; i < 2; ++i) {
    auto experiment = experiment_from_config(ConfigNode::parse(std::string(R"(
seed: 3
effector: {preset: ReluPointMass24, kernels: )") + kernels[i] + R"(}
environment:
  max_ep_duration: 0.2
  vision_delay: 0.05
  proprioception_delay: 0.02
  action_noise: 0.01
  vision_noise: 0.01
  proprioception_noise: 0.01
  obs_noise: 0.01
  action_frame_stacking: 2
  task:
    type: CentreOutReach
    go_cue_window: [0.05, 0.1]
    fields: [{type: curl, strength: 10, off_before_go_cue: true}, {type: channel, stiffness: 500, fraction: 0.5}]
policy: {type: GRU, hidden_size: 8, hidden_noise: 0.01}
losses: [{type: position_l1}, {type: muscle_activation, weight: 0.01}, {type: hand_jerk, weight: 0.01}]
)"));
    auto record = rollout(*experiment.environment, *experiment.policy, ResetOptions().batch_size(4));
    auto loss = experiment.losses.compute(record).total;
    loss.backward();
    loss_values[i] = loss.item<double>();
    for (const auto& parameter : experiment.policy->named_parameters())
      gradients[i][parameter.key()] = parameter.value().grad().clone();
  }
  EXPECT_NEAR(loss_values[0], loss_values[1], 1e-5 * std::abs(loss_values[1]));
  ASSERT_EQ(gradients[0].size(), gradients[1].size());
  for (const auto& [name, expected] : gradients[1]) {
    EXPECT_GT(expected.abs().max().item<double>(), 0.0) << name;
    const auto report = compare(gradients[0].at(name), expected, 1e-6, 1e-3);
    EXPECT_LE(report.worst_ratio, 1.0) << name << ": " << report.actual << " vs " << report.expected;
  }
}

// The whole time step is one autograd node whatever the task: over an episode with delays, stacked actions,
// every kind of noise and every field type, the graph behind the last observation (actions as leaves) holds one
// node per step and nothing else.
TEST(FusedEnvironment, EachStepIsOneNode) {
  const EnvironmentCase c{"Everything",
                          EnvironmentOptions().max_ep_duration(0.2).vision_delay(0.05).proprioception_delay(0.02)
                              .action_frame_stacking(2).action_noise(0.01).vision_noise(0.01)
                              .proprioception_noise(0.01).obs_noise({0.01}),
                          Fields::kEveryType, "FusedEnvironmentStep"};
  auto effector = make_relu_point_mass24(nullptr, EffectorOptions().kernels(KernelChoice::kFused));
  auto task = std::make_shared<CentreOutReach>(CentreOutReachOptions(), ReachTaskOptions().go_cue_window({0.05, 0.1}));
  task->add_field(std::make_shared<CurlField>(15.0, ForceFieldOptions().off_before_go_cue(true)));
  task->add_field(std::make_shared<ForceChannel>(500.0, 10.0, ForceFieldOptions().fraction(0.5)));
  Environment environment(effector, task, EnvironmentOptions(c.options).seed(3));
  auto result = environment->reset(ResetOptions().batch_size(4));
  std::vector<torch::Tensor> actions;
  for (int64_t t = 0; t < environment->n_steps(); ++t) {
    actions.push_back(torch::full({4, 4}, 0.2, torch::requires_grad()));
    result = environment->step(actions.back());
  }
  std::set<torch::autograd::Node*> seen;
  std::vector<torch::autograd::Node*> open{result.observation.grad_fn().get()};
  int64_t steps = 0;
  while (!open.empty()) {
    auto* node = open.back();
    open.pop_back();
    if (!node || !seen.insert(node).second) continue;
    if (node->name().find("AccumulateGrad") != std::string::npos) continue;  // an action
    EXPECT_NE(node->name().find("FusedEnvironmentStep"), std::string::npos) << node->name();
    ++steps;
    for (const auto& edge : node->next_edges()) open.push_back(edge.function.get());
  }
  EXPECT_EQ(steps, environment->n_steps());
  // And the gradient reaches the first action through the chain.
  result.observation.sum().backward();
  ASSERT_TRUE(actions.front().grad().defined());
}

}  // namespace
}  // namespace motornet
