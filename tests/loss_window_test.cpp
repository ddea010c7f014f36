// Loss terms over time windows: `window: [t0, t1]`, `from`/`until` a time or a trial's cue. Each windowed
// value is checked against the per-step values written out by hand, the gradient against the steps it counts,
// a rollout's cue steps against its trials, and each bad window against its error.

#include <gtest/gtest.h>

#include "motornet/motornet.h"

namespace motornet {
namespace {

// Two trials of three steps (T = 2, dt = 0.1 s): the fingertip's L1 error is 1, 2, 3 in trial 0 and 10, 20, 30 in
// trial 1; trial 0's go cue is at step 1, trial 1 is a catch trial (go cue at T + 1 = 3).
EpisodeRecord small_episode() {
  EpisodeRecord e;
  e.fingertip = torch::tensor({1.0, 2.0, 3.0, 10.0, 20.0, 30.0}, torch::kFloat64).reshape({2, 3, 1});
  e.goal = torch::zeros({2, 3, 1}, torch::kFloat64);
  e.hand_velocity = e.fingertip.clone();
  e.activation = e.fingertip.clone();
  e.hidden = torch::zeros({2, 3, 0}, torch::kFloat64);
  e.go_cue_step = torch::tensor({1, 3}, torch::kInt64);
  e.target_cue_step = torch::tensor({0, 2}, torch::kInt64);
  e.timestep = 0.1;
  return e;
}

double windowed(const std::string& entry, const EpisodeRecord& e) {
  auto losses = losses_from_config(ConfigNode::parse("losses: [" + entry + "]").at("losses"));
  return losses.compute(e).total.item<double>();
}

std::string input_error(const std::string& entry) {
  try {
    losses_from_config(ConfigNode::parse("losses: [" + entry + "]").at("losses"));
  } catch (const InputError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(LossWindows, TimeWindowsCountTheStepsWhoseTimeLiesInside) {
  const auto e = small_episode();
  EXPECT_DOUBLE_EQ(windowed("{type: position_l1}", e), (1 + 2 + 3 + 10 + 20 + 30) / 6.0);
  // The whole episode as a window is the unwindowed mean.
  EXPECT_DOUBLE_EQ(windowed("{type: position_l1, window: [0, 0.2]}", e), windowed("{type: position_l1}", e));
  // 0.1 s is step 1 exactly, although 0.1 / 0.1 is not computed exactly for every dt.
  EXPECT_DOUBLE_EQ(windowed("{type: position_l1, window: [0.1, 0.1]}", e), (2 + 20) / 2.0);
  EXPECT_DOUBLE_EQ(windowed("{type: position_l1, from: 0.05}", e), (2 + 3 + 20 + 30) / 4.0);
  EXPECT_DOUBLE_EQ(windowed("{type: position_l1, until: 0.15}", e), (1 + 2 + 10 + 20) / 4.0);
  // A window past the episode counts nothing: 0, not NaN.
  EXPECT_DOUBLE_EQ(windowed("{type: position_l1, from: 5}", e), 0.0);
}

TEST(LossWindows, CueWindowsFollowEachTrialsCue) {
  const auto e = small_episode();
  // from go_cue: trial 0's steps 1 and 2; none of the catch trial's.
  EXPECT_DOUBLE_EQ(windowed("{type: position_l1, from: go_cue}", e), (2 + 3) / 2.0);
  // until go_cue: trial 0's step 0 and all of the catch trial.
  EXPECT_DOUBLE_EQ(windowed("{type: position_l1, until: go_cue}", e), (1 + 10 + 20 + 30) / 4.0);
  EXPECT_DOUBLE_EQ(windowed("{type: position_l1, from: target_cue, until: go_cue}", e), (1 + 30) / 2.0);
  EXPECT_DOUBLE_EQ(windowed("{type: position_l1, from: go_cue, until: 0.1}", e), 2.0);
}

TEST(LossWindows, DifferencesCountAtTheirLaterStep) {
  const auto e = small_episode();
  // Activation changes: 1, 1 (trial 0) and 10, 10 (trial 1), at steps 1 and 2; squared.
  EXPECT_DOUBLE_EQ(windowed("{type: muscle_activation_derivative, window: [0.1, 0.1]}", e), (1 + 100) / 2.0);
  EXPECT_DOUBLE_EQ(windowed("{type: muscle_activation_derivative, until: go_cue}", e), (100 + 100) / 2.0);
  // Velocity second differences (0 here: the velocity rises linearly) count from step 2; the end speed at T.
  EXPECT_DOUBLE_EQ(windowed("{type: hand_jerk, until: 0.1}", e), 0.0);
  EXPECT_DOUBLE_EQ(windowed("{type: endpoint_speed, until: 0.1}", e), 0.0);
  EXPECT_DOUBLE_EQ(windowed("{type: endpoint_speed, from: 0.2}", e), (9 + 900) / 2.0);
  // A policy without hidden units has no hidden activity in any window.
  EXPECT_DOUBLE_EQ(windowed("{type: hidden_activity, from: go_cue}", e), 0.0);
}

TEST(LossWindows, TheGradientReachesOnlyTheCountedSteps) {
  auto e = small_episode();
  auto fingertip = e.fingertip.clone().requires_grad_(true);
  e.fingertip = fingertip;
  auto losses = losses_from_config(ConfigNode::parse("losses: [{type: position_l1, from: go_cue}]").at("losses"));
  losses.compute(e).total.backward();
  auto expected = torch::tensor({0.0, 0.5, 0.5, 0.0, 0.0, 0.0}, torch::kFloat64).reshape({2, 3, 1});
  EXPECT_TRUE(torch::equal(fingertip.grad(), expected)) << fingertip.grad();
}

TEST(LossWindows, ARolloutRecordsEachTrialsCues) {
  auto task = std::make_shared<CentreOutReach>(CentreOutReachOptions().n_targets(4),
                                               ReachTaskOptions().target_cue_window({0.05, 0.05})
                                                   .go_cue_window({0.1, 0.3})
                                                   .catch_fraction(0.5));
  Environment environment(make_relu_point_mass24(), task, EnvironmentOptions().max_ep_duration(0.4));
  RecurrentPolicy policy(RecurrentPolicyOptions(environment->observation_size(), 4).hidden_size(8));
  auto episode = rollout(*environment, *policy, ResetOptions().batch_size(16));
  ASSERT_TRUE(episode.go_cue_step.defined());
  EXPECT_TRUE(torch::equal(episode.go_cue_step, environment->trials().go_cue_step));
  EXPECT_TRUE(torch::equal(episode.target_cue_step, environment->trials().target_cue_step));
  // A windowed loss on a real rollout: finite, and its gradient reaches the policy.
  auto losses = losses_from_config(
      ConfigNode::parse("losses: [{type: position_l1, from: go_cue}, {type: hand_speed, until: go_cue}]")
          .at("losses"));
  auto values = losses.compute(episode);
  ASSERT_TRUE(std::isfinite(values.total.item<double>()));
  values.total.backward();
  double gradient_norm = 0.0;
  for (const auto& p : policy->parameters()) gradient_norm += p.grad().norm().item<double>();
  EXPECT_GT(gradient_norm, 0.0);
  // The rows of a replicate's block keep their own cues.
  auto part = episode.rows(4, 8);
  EXPECT_TRUE(torch::equal(part.go_cue_step, episode.go_cue_step.narrow(0, 4, 8)));
}

TEST(LossWindows, BadWindowsAreNamed) {
  EXPECT_NE(input_error("{type: position_l1, window: [0.3, 0.1]}").find("losses[0].window"), std::string::npos);
  EXPECT_NE(input_error("{type: position_l1, window: [0.3, 0.1]}").find("0 <= t0 <= t1"), std::string::npos);
  EXPECT_NE(input_error("{type: position_l1, window: [0.1, 0.3], from: go_cue}").find("not both"),
            std::string::npos);
  EXPECT_NE(input_error("{type: position_l1, from: go_kue}").find("losses[0].from"), std::string::npos);
  EXPECT_NE(input_error("{type: position_l1, from: go_kue}").find("a cue (go_cue, target_cue)"), std::string::npos);
  EXPECT_NE(input_error("{type: position_l1, until: -1}").find("losses[0].until"), std::string::npos);
  EXPECT_NE(input_error("{type: position_l1, from: 0.5, until: 0.2}").find("comes before"), std::string::npos);
  EXPECT_NE(input_error("{type: position_l1, windw: [0, 1]}").find("windw"), std::string::npos);
  // A whole-episode loss of one's own cannot be windowed; a per-step one can.
  register_loss_type("whole_episode_for_window_test", [](const EpisodeRecord& e) { return e.fingertip.sum(); });
  EXPECT_NE(input_error("{type: whole_episode_for_window_test, from: go_cue}").find("register_step_loss_type"),
            std::string::npos);
  register_step_loss_type("per_step_for_window_test", [](const EpisodeRecord& e) {
    return StepValues{e.fingertip.sum(2), 0};
  });
  EXPECT_DOUBLE_EQ(windowed("{type: per_step_for_window_test, from: go_cue}", small_episode()), 2.5);
}

}  // namespace
}  // namespace motornet
