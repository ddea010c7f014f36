// Environment and tasks: delay semantics, noise statistics, seeding, force fields, cue timing, catch trials,
// batch independence, and the documented input errors.

#include <gtest/gtest.h>

#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

Environment point_mass_environment(EnvironmentOptions options, TaskPtr task = std::make_shared<RandomTargetReach>()) {
  return Environment(make_relu_point_mass24(), std::move(task), std::move(options));
}

TEST(Environment, DelayedChannelsCarryTheValueOfStepTMinusKPlusOne) {
  auto env = point_mass_environment(
      EnvironmentOptions().vision_delay(0.04).proprioception_delay(0.02).max_ep_duration(0.3).action_frame_stacking(3));
  auto result = env->reset(ResetOptions().batch_size(2).deterministic(true));
  ASSERT_EQ(env->observation_size(), 2 + 2 + 8 + 12);
  std::vector<torch::Tensor> fingertips{result.info.states.fingertip()}, proprio{env->trials().initial_joint};
  std::vector<torch::Tensor> muscle_lengths{result.info.states.muscle.select(1, 1)}, actions;
  torch::manual_seed(0);
  for (int t = 1; t <= 30; ++t) {
    auto action = torch::rand({2, 4});
    result = env->step(action);
    actions.push_back(action);
    fingertips.push_back(result.info.states.fingertip());
    muscle_lengths.push_back(result.info.states.muscle.select(1, 1));
    auto obs = result.observation;
    // vision delay 4 steps, proprioception 2 steps; ReLU muscles normalise by 1.
    EXPECT_TRUE(torch::equal(obs.narrow(1, 2, 2), fingertips[std::max(t - 3, 0)])) << "vision at t=" << t;
    EXPECT_TRUE(torch::equal(obs.narrow(1, 4, 4), muscle_lengths[std::max(t - 1, 0)])) << "proprioception at t=" << t;
    // Three action frames, oldest first, zeros before the first action.
    for (int frame = 0; frame < 3; ++frame) {
      int source = t - 3 + frame;  // index into actions
      auto expected = source >= 0 ? actions[source] : torch::zeros({2, 4});
      EXPECT_TRUE(torch::equal(obs.narrow(1, 12 + 4 * frame, 4), expected)) << "frame " << frame << " at t=" << t;
    }
    EXPECT_EQ(result.terminated, t == 30);
  }
  EXPECT_THROW(env->step(torch::zeros({2, 4})), InputError);
}

TEST(Environment, NoiseHasTheConfiguredStandardDeviationAndNoneWhenDeterministic) {
  const double vision = 0.01, proprioception = 0.05, obs = 0.2, action = 0.3;
  auto env = point_mass_environment(EnvironmentOptions()
                                        .vision_noise(vision)
                                        .proprioception_noise(proprioception)
                                        .obs_noise({obs})
                                        .action_noise(action)
                                        .action_frame_stacking(1)
                                        .max_ep_duration(0.02)
                                        .seed(3));
  env->to(torch::kFloat64);
  const int64_t B = 50000;  // 50000 rows x 2..8 entries: at least 1e5 draws per channel
  auto joint = torch::tensor({{0.1, -0.2, 0.0, 0.0}}, torch::kFloat64);
  auto target = torch::tensor({{0.3, 0.3}}, torch::kFloat64);
  auto clean = env->reset(ResetOptions().batch_size(B).deterministic(true).joint_state(joint).target(target)).observation;
  auto noisy = env->reset(ResetOptions().batch_size(B).joint_state(joint).target(target)).observation;
  EXPECT_TRUE(torch::equal(noisy.narrow(1, 0, 2), clean.narrow(1, 0, 2))) << "the goal is noise free";
  auto std_of = [&](int64_t from, int64_t width) {
    return (noisy.narrow(1, from, width) - clean.narrow(1, from, width)).std().item<double>();
  };
  // Vision and proprioception carry their own noise plus the observation noise.
  EXPECT_NEAR(std_of(2, 2), std::hypot(vision, obs), 0.02 * std::hypot(vision, obs));
  EXPECT_NEAR(std_of(4, 8), std::hypot(proprioception, obs), 0.02 * std::hypot(proprioception, obs));

  // Action noise reaches the effector: the noisy action in the info and in the action frame.
  auto step = env->step(torch::full({B, 4}, 0.5, torch::kFloat64));
  auto motor = (step.info.noisy_action - 0.5);
  EXPECT_NEAR(motor.std().item<double>(), action, 0.02 * action);
  EXPECT_NEAR(motor.mean().item<double>(), 0.0, 0.01);

  env->reset(ResetOptions().batch_size(B).deterministic(true).joint_state(joint));
  auto quiet = env->step(torch::full({B, 4}, 0.5, torch::kFloat64));
  EXPECT_TRUE(torch::equal(quiet.info.noisy_action, quiet.info.action));
}

TEST(Environment, PerEntryObservationNoise) {
  auto env = point_mass_environment(EnvironmentOptions().max_ep_duration(0.02));
  std::vector<double> sigma(env->observation_size(), 0.0);
  sigma[3] = 0.5;  // vision y only
  auto noisy_env = point_mass_environment(EnvironmentOptions().obs_noise(sigma).max_ep_duration(0.02));
  auto clean = env->reset(ResetOptions().batch_size(40000).deterministic(true).joint_state(torch::zeros({1, 4})));
  auto noisy = noisy_env->reset(ResetOptions().batch_size(40000).joint_state(torch::zeros({1, 4})));
  auto difference = noisy.observation - clean.observation;
  EXPECT_NEAR(difference.select(1, 3).std().item<float>(), 0.5, 0.01);
  EXPECT_EQ(difference.narrow(1, 0, 3).abs().max().item<float>(), 0.0f);
  EXPECT_EQ(difference.narrow(1, 4, difference.size(1) - 4).abs().max().item<float>(), 0.0f);
}

TEST(Environment, SameSeedSameEpisodeDifferentSeedDifferent) {
  auto run = [](uint64_t seed) {
    auto env = point_mass_environment(EnvironmentOptions()
                                          .vision_noise(0.01)
                                          .proprioception_noise(0.01)
                                          .action_noise(0.05)
                                          .max_ep_duration(0.2)
                                          .seed(seed));
    std::vector<torch::Tensor> observations{env->reset(ResetOptions().batch_size(8)).observation};
    for (int t = 0; t < 20; ++t) observations.push_back(env->step(torch::full({8, 4}, 0.3)).observation);
    return torch::stack(observations);
  };
  EXPECT_TRUE(torch::equal(run(7), run(7)));
  EXPECT_FALSE(torch::equal(run(7), run(8)));
}

TEST(Environment, GradientsFlowFromObservationsToActionsAndStart) {
  auto env = point_mass_environment(EnvironmentOptions().vision_delay(0.02).action_frame_stacking(1).max_ep_duration(0.1));
  auto start = torch::tensor({{0.1, 0.2, 0.0, 0.0}}).requires_grad_(true);
  auto result = env->reset(ResetOptions().batch_size(1).deterministic(true).joint_state(start));
  auto actions = torch::full({10, 1, 4}, 0.2).requires_grad_(true);
  torch::Tensor total = torch::zeros({});
  for (int t = 0; t < 10; ++t) total = total + env->step(actions[t]).observation.sum();
  total.backward();
  EXPECT_GT(actions.grad().abs().sum().item<float>(), 0.0f);
  EXPECT_GT(start.grad().abs().sum().item<float>(), 0.0f);
}

TEST(Environment, RowsOfABatchAreIndependent) {
  auto env = Environment(make_rigid_tendon_arm26(), std::make_shared<RandomTargetReach>(),
                         EnvironmentOptions().vision_delay(0.03).proprioception_delay(0.02).max_ep_duration(0.2));
  auto joints = torch::tensor({{0.5, 1.0, 0.0, 0.0}, {1.2, 0.4, 0.0, 0.0}});
  auto target = torch::tensor({{0.1, 0.4}, {0.0, 0.5}});
  auto batch = env->reset(ResetOptions().batch_size(2).deterministic(true).joint_state(joints).target(target));
  std::vector<torch::Tensor> batch_obs{batch.observation};
  for (int t = 0; t < 20; ++t) batch_obs.push_back(env->step(torch::full({2, 6}, 0.1) * (t % 3)).observation);
  for (int64_t i = 0; i < 2; ++i) {
    auto single = env->reset(ResetOptions()
                                 .batch_size(1)
                                 .deterministic(true)
                                 .joint_state(joints.narrow(0, i, 1))
                                 .target(target.narrow(0, i, 1)));
    EXPECT_TRUE(torch::allclose(single.observation, batch_obs[0].narrow(0, i, 1)));
    for (int t = 0; t < 20; ++t) {
      auto obs = env->step(torch::full({1, 6}, 0.1) * (t % 3)).observation;
      EXPECT_TRUE(torch::allclose(obs, batch_obs[t + 1].narrow(0, i, 1), 1e-6, 1e-6)) << "row " << i << " t " << t;
    }
  }
}

TEST(ForceFields, CurlFieldTurnsTheVelocityClockwise) {
  CurlField curl(10.0);
  EffectorState state;
  state.cartesian = torch::tensor({{0.0, 0.0, 0.3, 0.0}, {0.0, 0.0, 0.0, -0.2}});
  Trials trials;
  trials.go_cue_step = torch::zeros({2}, torch::kInt64);
  FieldTrials draws{torch::ones({2}), {}, {}};
  auto force = curl.force(0, 0.01, state, trials, draws);
  // Moving along +x, a positive (clockwise) curl pushes along -y with k |v|; moving along -y, along -x.
  EXPECT_TRUE(torch::allclose(force, torch::tensor({{0.0, -3.0}, {-2.0, 0.0}})));
  EXPECT_TRUE(torch::allclose((force * state.cartesian.narrow(1, 2, 2)).sum(1), torch::zeros({2})))
      << "a curl field does no work";
  CurlField counter(-10.0);
  EXPECT_TRUE(torch::allclose(counter.force(0, 0.01, state, trials, draws), -force));
  ViscousField viscous(4.0);
  EXPECT_TRUE(torch::allclose(viscous.force(0, 0.01, state, trials, draws), torch::tensor({{-1.2, 0.0}, {0.0, 0.8}})));
}

TEST(ForceFields, WindowsFractionsAndGoCue) {
  ConstantLoad load({1.0, 2.0}, ForceFieldOptions().start_time(0.05).end_time(0.1).off_before_go_cue(true));
  EffectorState state;
  state.cartesian = torch::zeros({2, 4});
  Trials trials;
  trials.go_cue_step = torch::tensor({3, 8}, torch::kInt64);
  FieldTrials draws{torch::ones({2}), {}, {}};
  for (int64_t step = 0; step < 12; ++step) {
    auto force = load.force(step, 0.01, state, trials, draws);
    for (int64_t i = 0; i < 2; ++i) {
      bool on = step >= 5 && step < 10 && step >= trials.go_cue_step[i].item<int64_t>();
      EXPECT_FLOAT_EQ(force[i][1].item<float>(), on ? 2.0f : 0.0f) << "step " << step << " trial " << i;
    }
  }
  auto generator = at::detail::createCPUGenerator(1);
  ViscousField partial(1.0, ForceFieldOptions().fraction(0.3));
  auto active = partial.sample(100000, 2, 0.01, generator).active;
  EXPECT_NEAR(active.mean().item<double>(), 0.3, 0.01);
}

TEST(ForceFields, PulseTimingDirectionAndMagnitude) {
  ForcePulse pulse(ForcePulseOptions().magnitude(8.0).duration(0.05).onset_earliest(0.1).onset_latest(0.2).directions(
      {{1.0, 0.0}, {0.0, -2.0}}));
  auto generator = at::detail::createCPUGenerator(2);
  auto draws = pulse.sample(2000, 2, 0.01, generator);
  EXPECT_GE(draws.onset_step.min().item<int64_t>(), 10);
  EXPECT_LE(draws.onset_step.max().item<int64_t>(), 20);
  EffectorState state;
  state.cartesian = torch::zeros({2000, 4});
  Trials trials;
  trials.go_cue_step = torch::zeros({2000}, torch::kInt64);
  for (int64_t step = 0; step < 30; ++step) {
    auto force = pulse.force(step, 0.01, state, trials, draws);
    auto on = (draws.onset_step <= step).logical_and(draws.onset_step + 5 > step);
    EXPECT_TRUE(torch::allclose(force.norm(2, 1), 8.0 * on.to(torch::kFloat32))) << "step " << step;
  }
  auto first = pulse.force(20, 0.01, state, trials, draws);
  auto along_minus_y = (first.select(1, 1) < -7.9).to(torch::kFloat32).sum().item<float>();
  EXPECT_GT(along_minus_y, 0.0f);  // the second direction is normalised to (0, -1)
}

TEST(ForceFields, ChannelPushesBackTowardsTheLineAndIsReported) {
  ForceChannel channel(1000.0, 20.0);
  EffectorState state;
  state.cartesian = torch::tensor({{0.05, 0.02, 0.3, 0.1}});  // moving along x with a small drift in +y
  Trials trials;
  trials.start = torch::tensor({{0.0, 0.0}});
  trials.target = torch::tensor({{0.1, 0.0}});
  trials.go_cue_step = torch::zeros({1}, torch::kInt64);
  auto force = channel.force(0, 0.01, state, trials, {torch::ones({1}), {}, {}});
  EXPECT_TRUE(torch::allclose(force, torch::tensor({{0.0f, -(1000.0f * 0.02f + 20.0f * 0.1f)}})));

  auto task = std::make_shared<RandomTargetReach>();
  task->add_field(std::make_shared<ForceChannel>(2000.0, 50.0, ForceFieldOptions().name("probe")));
  Environment env(make_rigid_tendon_arm26(), task, EnvironmentOptions().max_ep_duration(0.1));
  env->reset(ResetOptions().batch_size(3));
  auto result = env->step(torch::full({3, 6}, 0.2));
  ASSERT_EQ(result.info.field_forces.count("probe"), 1u);
  EXPECT_TRUE(torch::equal(result.info.field_forces.at("probe"), result.info.endpoint_load));
}

TEST(Tasks, CentreOutEvaluationGoalsAndCues) {
  auto task = std::make_shared<CentreOutReach>(CentreOutReachOptions().n_targets(4).radius(0.1),
                                               ReachTaskOptions().target_cue_window({0.1, 0.1}).go_cue_window({0.2, 0.4}));
  Environment env(make_rigid_tendon_arm26(), task, EnvironmentOptions().vision_delay(0.05).max_ep_duration(0.6));
  auto first = env->reset(ResetOptions().batch_size(8).evaluation(true).deterministic(true));
  const auto& trials = env->trials();
  auto centre = trials.start[0];
  for (int64_t i = 0; i < 8; ++i) {
    EXPECT_TRUE(torch::allclose(trials.start[i], centre));
    EXPECT_NEAR((trials.target[i] - centre).norm().item<float>(), 0.1f, 1e-5);
    EXPECT_EQ(trials.go_cue_step[i].item<int64_t>(), 30);  // the middle of [20, 40] steps
  }
  EXPECT_TRUE(torch::allclose(trials.target[0] - centre, torch::tensor({0.1f, 0.0f}), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(trials.target[1] - centre, torch::tensor({0.0f, 0.1f}), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(trials.target[4], trials.target[0]));
  // The goal is the start until the go cue, then the target.
  EXPECT_TRUE(torch::allclose(trials.goal[2][29], trials.start[2]));
  EXPECT_TRUE(torch::allclose(trials.goal[2][30], trials.target[2]));
  // Inputs: [target (start before its cue), start, go], seen through the 5-step vision delay.
  EXPECT_TRUE(torch::allclose(first.observation[1].narrow(0, 0, 2), trials.start[1]));
  std::vector<torch::Tensor> observations{first.observation};
  for (int t = 1; t <= 60; ++t) observations.push_back(env->step(torch::zeros({8, 6})).observation);
  // The target cue at step 10 is seen from t = 14, the go cue at step 30 from t = 34.
  EXPECT_TRUE(torch::allclose(observations[13][1].narrow(0, 0, 2), trials.start[1]));
  EXPECT_TRUE(torch::allclose(observations[14][1].narrow(0, 0, 2), trials.target[1]));
  EXPECT_EQ(observations[33][1][4].item<float>(), 0.0f);
  EXPECT_EQ(observations[34][1][4].item<float>(), 1.0f);
}

TEST(Tasks, CatchTrialFractionAndTrainingDraws) {
  auto task = std::make_shared<CentreOutReach>(CentreOutReachOptions(),
                                               ReachTaskOptions().go_cue_window({0.1, 0.3}).catch_fraction(0.25));
  Environment env(make_rigid_tendon_arm26(), task, EnvironmentOptions().max_ep_duration(0.5).seed(4));
  env->reset(ResetOptions().batch_size(20000));
  const auto& trials = env->trials();
  EXPECT_NEAR(trials.catch_trial.to(torch::kFloat64).mean().item<double>(), 0.25, 0.01);
  auto regular = trials.go_cue_step.masked_select(trials.catch_trial.logical_not());
  EXPECT_GE(regular.min().item<int64_t>(), 10);
  EXPECT_LE(regular.max().item<int64_t>(), 30);
  EXPECT_EQ(trials.go_cue_step.masked_select(trials.catch_trial).min().item<int64_t>(), env->n_steps() + 1);
  // Catch trials hold the start all along.
  auto catch_index = trials.catch_trial.nonzero()[0][0].item<int64_t>();
  EXPECT_TRUE(torch::allclose(trials.goal[catch_index][-1], trials.start[catch_index]));
  // Training draws random starts, not the fixed start posture.
  EXPECT_GT(trials.start.std(0).min().item<float>(), 0.01f);
}

TEST(Tasks, DelayedReachShowsTheTargetFromTheStart) {
  auto task = std::make_shared<DelayedReach>();
  Environment env(make_relu_point_mass24(), task, EnvironmentOptions().max_ep_duration(0.8));
  auto result = env->reset(ResetOptions().batch_size(500));
  const auto& trials = env->trials();
  EXPECT_TRUE(torch::allclose(result.observation.narrow(1, 0, 2), trials.target));
  EXPECT_GE(trials.go_cue_step.min().item<int64_t>(), 20);
  EXPECT_LE(trials.go_cue_step.max().item<int64_t>(), 50);
  EXPECT_GT(trials.go_cue_step.max().item<int64_t>(), trials.go_cue_step.min().item<int64_t>());
}

// target_cue_window hides the target until its cue in every reaching task: the first input block is the start
// before the cue and the target from it (RandomTargetReach's is its goal, which turns to the target at the go cue).
TEST(Tasks, TargetCueWindowHidesTheTargetUntilTheCueInEveryReachingTask) {
  const auto reach = ReachTaskOptions().target_cue_window({0.1, 0.1}).go_cue_window({0.3, 0.3});
  const std::vector<std::pair<std::string, TaskPtr>> tasks = {
      {"DelayedReach", std::make_shared<DelayedReach>(reach)},
      {"CentreOutReach", std::make_shared<CentreOutReach>(CentreOutReachOptions(), reach)},
      {"RandomTargetReach", std::make_shared<RandomTargetReach>(reach)}};
  for (const auto& [name, task] : tasks) {
    Environment env(make_relu_point_mass24(), task, EnvironmentOptions().max_ep_duration(0.5));
    env->reset(ResetOptions().batch_size(16));
    const auto& trials = env->trials();
    ASSERT_EQ(trials.target_cue_step.min().item<int64_t>(), 10) << name;
    const int64_t shown_from = name == "RandomTargetReach" ? 30 : 10;
    auto first_block = [&](int64_t step) { return trials.inputs.select(1, step).narrow(1, 0, 2); };
    EXPECT_TRUE(torch::allclose(first_block(0), trials.start)) << name;
    EXPECT_TRUE(torch::allclose(first_block(shown_from - 1), trials.start)) << name;
    EXPECT_TRUE(torch::allclose(first_block(shown_from), trials.target)) << name;
    EXPECT_FALSE(torch::allclose(trials.start, trials.target)) << name << ": the test needs targets away from the start";
  }
}

TEST(Tasks, PostureHoldWithPerturbations) {
  auto task = std::make_shared<PostureHold>(ReachTaskOptions().start_posture(std::vector<double>{0.8, 1.2}));
  task->add_field(std::make_shared<ForcePulse>(
      ForcePulseOptions().magnitude(5.0).duration(0.05).onset_earliest(0.1).onset_latest(0.1).directions({{1.0, 0.0}}),
      ForceFieldOptions().fraction(0.5)));
  Environment env(make_rigid_tendon_arm26(), task, EnvironmentOptions().max_ep_duration(0.3).seed(9));
  env->reset(ResetOptions().batch_size(400));
  const auto& trials = env->trials();
  EXPECT_TRUE(torch::allclose(trials.goal[0][-1], trials.start[0]));
  const auto& active = trials.fields[0].active;
  EXPECT_NEAR(active.mean().item<double>(), 0.5, 0.1);
  torch::Tensor moved;
  for (int t = 0; t < 20; ++t) {
    auto result = env->step(torch::zeros({400, 6}));
    bool pulse_on = t >= 10 && t < 15;
    auto load = result.info.endpoint_load.select(1, 0);
    EXPECT_TRUE(torch::allclose(load, pulse_on ? 5.0 * active.to(torch::kFloat32) : torch::zeros({400})))
        << "step " << t;
    moved = result.info.states.fingertip() - trials.start;
  }
  // Perturbed trials were pushed along +x relative to the unperturbed ones.
  auto perturbed = moved.select(1, 0).masked_select(active > 0.5).mean();
  auto unperturbed = moved.select(1, 0).masked_select(active < 0.5).mean();
  EXPECT_GT((perturbed - unperturbed).item<float>(), 0.001f);
}

// A user's environment: proprioception only (no vision), by overriding `observe`.
class ProprioceptionOnlyImpl : public EnvironmentImpl {
 public:
  using EnvironmentImpl::EnvironmentImpl;

 protected:
  torch::Tensor observe(const torch::Tensor& task_inputs, const torch::Tensor& vision,
                        const torch::Tensor& proprioception, const torch::Tensor& action_frames) override {
    return torch::cat({task_inputs, proprioception}, 1);
  }
};

TEST(Environment, SubclassesChooseWhatIsObserved) {
  auto env = std::make_shared<ProprioceptionOnlyImpl>(make_relu_point_mass24(), std::make_shared<RandomTargetReach>(),
                                                      EnvironmentOptions().max_ep_duration(0.1));
  auto result = env->reset(ResetOptions().batch_size(3));
  EXPECT_EQ(result.observation.size(1), 2 + 8);
  EXPECT_EQ(env->step(torch::zeros({3, 4})).observation.size(1), 2 + 8);
}

// --- Bad input -------------------------------------------------------------------------------------------------

void expect_environment_error(const std::string& environment_yaml, const std::string& path, const std::string& fragment,
                              const std::string& preset = "RigidTendonArm26") {
  try {
    auto effector = make_preset(preset);
    environment_from_config(ConfigNode::parse("environment: " + environment_yaml).at("environment"), effector);
    ADD_FAILURE() << "no error; expected one at " << path;
  } catch (const InputError& error) {
    EXPECT_EQ(error.path(), path) << error.what();
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
  }
}

TEST(EnvironmentErrors, Documented) {
  expect_environment_error("{vision_delay: 0.025}", "environment.vision_delay",
                           "0.025 s is not a whole multiple of the timestep (0.01 s)");
  expect_environment_error("{proprioception_delay: 0}", "environment.proprioception_delay", "must be positive");
  expect_environment_error("{vision_noise: -0.1}", "environment.vision_noise", "non-negative");
  expect_environment_error("{action_noise: -1}", "environment.action_noise", "non-negative");
  expect_environment_error("{max_ep_duration: -1}", "environment.max_ep_duration", "must be positive");
  expect_environment_error("{task: {type: CenterOutReach}}", "environment.task.type",
                           "unknown task type 'CenterOutReach' (did you mean 'CentreOutReach'?)");
  expect_environment_error("{task: {fields: [{type: curly, strength: 1}]}}", "environment.task.fields[0].type",
                           "unknown field type 'curly' (did you mean 'curl'?)");
  expect_environment_error("{obs_noise: [0.1, 0.2]}", "environment.obs_noise",
                           "expected one value or one per observation entry (16), got 2");
  expect_environment_error("{task: {type: CentreOutReach, start_posture: [0.5, 3.0]}}", "environment.task.start_posture",
                           "joint 1 at 3 lies outside its bounds");
  expect_environment_error("{task: {type: CentreOutReach, radius: 0.5}}", "environment.task.radius",
                           "is out of the effector's reach");
  expect_environment_error("{task: {type: CentreOutReach, radius: 1.5}}", "environment.task.radius",
                           "is out of the effector's reach", "ReluPointMass24");
  expect_environment_error("{task: {go_cue_window: [0.5, 2.0]}}", "environment.task.go_cue_window",
                           "ends after the episode");
  expect_environment_error("{task: {fields: [{type: curl, strength: 1, fraction: 1.5}]}}",
                           "environment.task.fields[0].fraction", "must lie in [0, 1]");
  expect_environment_error("{task: {fields: [{type: curl, strenght: 1}]}}", "environment.task.fields[0].strenght",
                           "did you mean 'strength'?");
  expect_environment_error("{visiondelay: 0.02}", "environment.visiondelay", "did you mean 'vision_delay'?");
}

TEST(OptionTables, OneTableReadsChecksAndListsAnOptionsStruct) {
  const auto& table = two_dof_arm_option_table();
  auto options = table.read(ConfigNode::parse("{type: TwoDofArm, m1: 2.5, viscosity: 0.1}", "arm.yaml"),
                            TwoDofArmOptions(), {"type"});
  EXPECT_EQ(options.m1(), 2.5);
  EXPECT_EQ(options.viscosity(), 0.1);
  EXPECT_EQ(options.m2(), TwoDofArmOptions().m2());  // absent keys keep their default
  try {
    table.read(ConfigNode::parse("{viscocity: 0.1}"), TwoDofArmOptions(), {"type"});
    ADD_FAILURE() << "no error";
  } catch (const InputError& error) {
    EXPECT_EQ(error.path(), "viscocity");
    EXPECT_NE(std::string(error.what()).find("did you mean 'viscosity'?"), std::string::npos) << error.what();
  }
  // The same check whether the options came from YAML or from C++.
  try {
    table.read(ConfigNode(YAML::Load("{l2: 0}"), "effector.skeleton"), TwoDofArmOptions());
    ADD_FAILURE() << "no error";
  } catch (const InputError& error) {
    EXPECT_EQ(error.path(), "effector.skeleton.l2") << error.what();
    EXPECT_NE(std::string(error.what()).find("must be positive, got 0"), std::string::npos) << error.what();
  }
  try {
    TwoDofArmImpl arm(TwoDofArmOptions().l2(0.0));
    ADD_FAILURE() << "no error";
  } catch (const InputError& error) {
    EXPECT_EQ(error.path(), "l2") << error.what();
    EXPECT_NE(std::string(error.what()).find("must be positive, got 0"), std::string::npos) << error.what();
  }
  // The key list shows each key with the default of the struct it is given.
  const auto markdown = table.markdown(TwoDofArmOptions().m1(3.25));
  EXPECT_NE(markdown.find("| `m1` | `3.25` | kg, upper arm |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| `viscosity` | `0` |"), std::string::npos) << markdown;
  EXPECT_EQ(table.keys().size(), 9u);
  // A rule across options names the key it reports.
  try {
    optimizer_option_table().check(OptimizerOptions().lr(0.01).min_lr(0.1), "optimizer");
    ADD_FAILURE() << "no error";
  } catch (const InputError& error) {
    EXPECT_EQ(error.path(), "optimizer.min_lr") << error.what();
  }
}

TEST(OptionTables, EveryBlockIsListedWithTheReadersKeys) {
  const auto listing = configuration_keys_markdown();
  for (const auto* block : {"### `effector`", "### `effector.skeleton` (type: TwoDofArm)", "### `environment`",
                            "### `environment.task` (type: CentreOutReach)", "### `environment.task.fields[i]`",
                            "### `policy` (type: MLP", "### `optimizer`", "### `training`"})
    EXPECT_NE(listing.find(block), std::string::npos) << block;
  // Every listed environment key is one the reader takes.
  for (const auto& key : environment_option_table().keys()) {
    EXPECT_NE(listing.find("| `" + key + "` |"), std::string::npos) << key;
    EXPECT_NO_THROW(environment_options_from_config(ConfigNode::parse("{" + key + ": 1}"))) << key;
  }
}

TEST(ForceFields, AUserFieldTypeIsReadFromYamlThroughTheRegistry) {
  register_force_field_type("push", {{"newtons"}, [](const ConfigNode& block, ForceFieldOptions options) {
                                       return std::make_shared<ConstantLoad>(
                                           std::vector<double>{block.at("newtons").as_double(), 0.0}, options);
                                     }});
  auto env = environment_from_config(
      ConfigNode::parse("environment: {task: {fields: [{type: push, newtons: 3, name: wind}]}}").at("environment"),
      make_relu_point_mass24());
  env->reset(ResetOptions().batch_size(2));
  auto step = env->step(torch::zeros({2, 4}));
  EXPECT_TRUE(torch::allclose(step.info.field_forces.at("wind").to(torch::kFloat64),
                              torch::tensor({{3.0, 0.0}, {3.0, 0.0}}, torch::kFloat64)));
  const auto types = force_field_types();
  EXPECT_NE(std::find(types.begin(), types.end(), "push"), types.end());
  expect_environment_error("{task: {fields: [{type: push, newton: 3}]}}", "environment.task.fields[0].newton",
                           "did you mean 'newtons'?");
}

TEST(EnvironmentErrors, ResetAndStepArguments) {
  auto env = point_mass_environment(EnvironmentOptions());
  EXPECT_THROW(env->step(torch::zeros({1, 4})), InputError);  // before reset
  env->reset(ResetOptions().batch_size(2));
  EXPECT_THROW(env->step(torch::zeros({2, 3})), InputError);
  EXPECT_THROW(env->reset(ResetOptions().batch_size(0)), InputError);
  EXPECT_THROW(env->reset(ResetOptions().batch_size(2).joint_state(torch::tensor({{2.0, 0.0}}))), InputError);
  EXPECT_THROW(env->reset(ResetOptions().batch_size(2).target(torch::zeros({3, 2}))), InputError);
}

}  // namespace
}  // namespace motornet
