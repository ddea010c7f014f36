// The environment's fused step against the op-by-op environment. On the CPU a step's state and its senses come
// from one autograd node, and without delays, stacked actions or observation noise the whole observation does
// too; these tests run the same episodes (same seeds, same actions) with `kernels: fused` and `op-by-op`
// effectors and hold every observation, state and the gradient of a loss over all of them with respect to every
// action equal, for each path the environment can take, in float64 and float32.
#include <gtest/gtest.h>

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
        EnvironmentCase{"NoDelayNoNoise", EnvironmentOptions().max_ep_duration(0.25), Fields::kNone, "FusedEffectorStep"},
        EnvironmentCase{"NoDelaySensoryNoise",
                        EnvironmentOptions().max_ep_duration(0.25).vision_noise(0.01).proprioception_noise(0.02).action_noise(0.01),
                        Fields::kNone, "FusedEffectorStep"},
        EnvironmentCase{"NoDelayCurlField", EnvironmentOptions().max_ep_duration(0.25).vision_noise(0.01), Fields::kCurl,
                        "FusedEffectorStep"},
        EnvironmentCase{"EveryFieldType", EnvironmentOptions().max_ep_duration(0.25).vision_noise(0.01),
                        Fields::kEveryType, "FusedEffectorStep"},
        EnvironmentCase{"EveryFieldTypeWithDelays",
                        EnvironmentOptions().max_ep_duration(0.25).vision_delay(0.05).proprioception_delay(0.02)
                            .action_noise(0.01),
                        Fields::kEveryType, "ConcatColumns"},
        // Senses from the step node, then a concatenation of the delayed ones (and noise).
        EnvironmentCase{"Delays",
                        EnvironmentOptions().max_ep_duration(0.25).vision_delay(0.05).proprioception_delay(0.02)
                            .vision_noise(0.01).proprioception_noise(0.02),
                        Fields::kNone, "ConcatColumns"},
        EnvironmentCase{"ObservationNoise", EnvironmentOptions().max_ep_duration(0.25).obs_noise({0.03}), Fields::kNone,
                        "ConcatColumns"},
        EnvironmentCase{"ActionFrames", EnvironmentOptions().max_ep_duration(0.25).action_frame_stacking(2), Fields::kNone,
                        "ConcatColumns"}),
    [](const ::testing::TestParamInfo<EnvironmentCase>& info) { return info.param.name; });

}  // namespace
}  // namespace motornet
