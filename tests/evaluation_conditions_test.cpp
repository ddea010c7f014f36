// Experiment evaluation: each trial's measures (lateral deviation, reaction time, drift, return), evaluation
// conditions written by motornet-train and motornet-eval, the trial and field records in rollout.h5 read back with
// h5py, catch and channel evaluation, and snapshots evaluated over training.

#include <gtest/gtest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("motornet_evaluation_test_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// One trial of 11 steps (dt 0.1 s) from the origin towards (1, 0): the hand moves from step 3 to 7 and bulges to
// y = +0.2 (left of the movement) at step 5.
TEST(TrialMeasures, ReachCatchAndPostureTrials) {
  const int64_t T = 11;
  auto position = torch::zeros({3, T, 2}, torch::kFloat64), velocity = torch::zeros({3, T, 2}, torch::kFloat64);
  const double x[T] = {0, 0, 0, 0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0};
  const double y[T] = {0, 0, 0, 0, 0.1, 0.2, 0.1, 0, 0, 0, 0};
  for (int64_t t = 0; t < T; ++t) {
    position[0][t][0] = x[t], position[0][t][1] = y[t];
    velocity[0][t][0] = t > 3 && t <= 7 ? 2.5 : 0.0;
    // Trial 1, a catch trial, drifts to (0, -0.05); trial 2, a posture trial, is pushed 3 cm away and is back
    // within 1 cm from step 6 on.
    position[1][t][1] = -0.05 * t / (T - 1);
    position[2][t][0] = t < 6 ? 0.03 * std::min<int64_t>(t, 3) / 3.0 : 0.005;
  }
  velocity[1].select(1, 1).fill_(0.05);
  velocity[2][1][0] = 0.3;
  EpisodeRecord episode;
  episode.fingertip = position;
  episode.hand_velocity = velocity;
  Trials trials;
  trials.start = torch::zeros({3, 2}, torch::kFloat64);
  trials.target = torch::tensor({{1.0, 0.0}, {1.0, 0.0}, {0.0, 0.0}}, torch::kFloat64);
  trials.go_cue_step = torch::tensor(std::vector<int64_t>{2, T + 1, 0});
  trials.catch_trial = torch::tensor({false, true, false});
  const auto m = measure_trials(episode, trials, 0.1);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].kind, TrialKind::kReach);
  EXPECT_NEAR(m[0].lateral_deviation, 0.2, 1e-12);  // positive: to the left of the movement
  EXPECT_NEAR(m[0].reaction_time, 0.2, 1e-12);      // go cue at step 2, onset at step 4
  EXPECT_NEAR(m[0].movement_time, 0.3, 1e-12);      // steps 4 to 7
  EXPECT_NEAR(m[0].peak_speed, 2.5, 1e-12);
  EXPECT_NEAR(m[0].endpoint_error, 0.0, 1e-12);
  EXPECT_EQ(m[1].kind, TrialKind::kCatch);
  EXPECT_NEAR(m[1].max_displacement, 0.05, 1e-12);
  EXPECT_TRUE(std::isnan(m[1].reaction_time));
  EXPECT_EQ(m[2].kind, TrialKind::kPosture);
  EXPECT_NEAR(m[2].max_displacement, 0.03, 1e-12);
  EXPECT_NEAR(m[2].return_time, 0.6, 1e-12);
  // A reach to the right of the movement is negative: the same trial mirrored.
  episode.fingertip.select(2, 1).neg_();
  EXPECT_NEAR(measure_trials(episode, trials, 0.1)[0].lateral_deviation, -0.2, 1e-12);
}

// One channel probe trial from start to target with the given hand velocities [T+1, 2] and channel forces [T, 2].
EvaluationResult channel_trial(const torch::Tensor& target, const torch::Tensor& velocity, const torch::Tensor& force) {
  EvaluationResult result;
  result.episode.fingertip = torch::zeros({1, velocity.size(0), 2}, torch::kFloat64);
  result.episode.hand_velocity = velocity.unsqueeze(0);
  result.episode.field_forces["probe"] = force.unsqueeze(0);
  result.trials.start = torch::zeros({1, 2}, torch::kFloat64);
  result.trials.target = target.unsqueeze(0);
  result.trials.go_cue_step = torch::zeros({1}, torch::kInt64);
  result.trials.catch_trial = torch::zeros({1}, torch::kBool);
  result.trials.fields.push_back(FieldTrials{torch::ones({1}, torch::kFloat64), {}, {}});
  result.field_names = {"probe"};
  result.field_types = {"channel"};
  result.measures = measure_trials(result.episode, result.trials, 0.01);
  return result;
}

// A channel that pushes the hand to the right (-y, for a reach along +x) means the hand pushes left against it.
TEST(TrialMeasures, TheLateralPushAgainstAChannelIsSignedLeftPositive) {
  const int64_t T = 5;
  auto velocity = torch::zeros({T + 1, 2}, torch::kFloat64);
  velocity[3][0] = 1.0;  // peak speed at state 3, reached by step 2 -> 3
  auto force = torch::zeros({T, 2}, torch::kFloat64);
  force[2][1] = -3.0;
  const auto summary = to_json(channel_trial(torch::tensor({1.0, 0.0}, torch::kFloat64), velocity, force));
  EXPECT_DOUBLE_EQ(summary["channels"]["probe"]["mean_lateral_push_N"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(summary["channels"]["probe"]["mean_peak_force_N"].get<double>(), 3.0);
  EXPECT_EQ(summary["reach_trials"], 0);  // a channel trial is not a plain reach
}

// The push per unit speed: a hand pushing left with 7 N s/m times its forward speed at every step (the channel
// pushes back, to the right) is a slope of 7, whatever the speed profile.
TEST(TrialMeasures, TheChannelPushPerSpeedIsTheSlopeOverTheWholeTrial) {
  const int64_t T = 6;
  const auto speed = torch::tensor({0.0, 0.2, 0.6, 0.9, 0.5, 0.1, 0.0}, torch::kFloat64);  // along +y
  const auto velocity = torch::stack({torch::zeros({T + 1}, torch::kFloat64), speed}, 1);
  // Reaching along +y, the left normal is -x: the channel pushes along +x with 7 times the speed of its step.
  auto force = torch::zeros({T, 2}, torch::kFloat64);
  force.select(1, 0).copy_(7.0 * speed.narrow(0, 0, T));
  const auto target = torch::tensor({0.0, 0.1}, torch::kFloat64);
  EXPECT_NEAR(to_json(channel_trial(target, velocity, force))["channels"]["probe"]["mean_push_per_speed_Ns_per_m"]
                  .get<double>(),
              7.0, 1e-12);
  // A push to the right (the channel pushing left) is a negative slope.
  EXPECT_NEAR(to_json(channel_trial(target, velocity, -force))["channels"]["probe"]["mean_push_per_speed_Ns_per_m"]
                  .get<double>(),
              -7.0, 1e-12);
}

const std::string kExperiment = R"(
seed: 2
effector: {preset: ReluPointMass24}
environment:
  max_ep_duration: 0.3
  task: {type: RandomTargetReach, go_cue_window: [0.05, 0.1]}
policy: {type: GRU, hidden_size: 8}
losses: [{type: position_l1}]
training: {batch_size: 4, n_batches: 4, validation_every: 0, checkpoint_every: 0, log_every: 1, snapshot_every: 2}
evaluation:
  batch_size: 12
  conditions:
    - {name: null_field, set: {environment.task.fields: []}}
    - {name: curl, set: {environment.task.fields: [{type: curl, name: curl, strength: 20}]}}
    - name: channel
      set: {environment.task.fields: [{type: channel, name: channel, stiffness: 2000, damping: 50, fraction: 1.0}]}
    - {name: catch, set: {environment.task.catch_fraction: 1.0}}
)";

nlohmann::json trial_records(const fs::path& rollout) {
  const auto result = testing::run_command(
      fmt::format("/usr/bin/python3 {}/python/read_trial_records.py {}", MOTORNET_TESTS_DIR, rollout.string()));
  EXPECT_EQ(result.status, 0) << result.output;
  return nlohmann::json::parse(result.output);
}

nlohmann::json read_json(const fs::path& file) { return nlohmann::json::parse(testing::read_text(file.string())); }

TEST(EvaluationConditions, TrainingEvaluatesEveryConditionWithItsTrialRecords) {
  const auto dir = fresh_dir("conditions");
  std::ofstream(dir / "experiment.yaml") << kExperiment;
  const auto run = testing::run_command(fmt::format("{} {} --out {} --quiet", MOTORNET_TRAIN_PATH,
                                                    (dir / "experiment.yaml").string(), (dir / "run").string()));
  ASSERT_EQ(run.status, 0) << run.output;
  const auto summary = read_json(dir / "run" / "summary.json");
  for (const char* name : {"null_field", "curl", "channel", "catch"}) {
    EXPECT_TRUE(fs::exists(dir / "run" / "eval" / name / "rollout.h5")) << name;
    EXPECT_TRUE(fs::exists(dir / "run" / "eval" / name / "summary.json")) << name;
    EXPECT_EQ(summary["evaluation"][name]["trials"], 12) << name;
  }
  const int64_t T = 30, B = 12;

  // Every trial's conditions, whatever the condition.
  const auto null_field = trial_records(dir / "run" / "eval" / "null_field" / "rollout.h5");
  EXPECT_EQ(null_field["trials/start"]["shape"], (std::vector<int64_t>{B, 2}));
  EXPECT_EQ(null_field["trials/target"]["shape"], (std::vector<int64_t>{B, 2}));
  for (const char* name : {"trials/target_cue_step", "trials/go_cue_step", "trials/catch", "trials/kind"}) {
    EXPECT_EQ(null_field[name]["kind"], "i") << name;
    EXPECT_EQ(null_field[name]["shape"], (std::vector<int64_t>{B})) << name;
  }
  EXPECT_EQ(null_field["trials/catch"]["sum"], 0.0);
  EXPECT_GE(null_field["trials/go_cue_step"]["min"].get<double>(), 5.0);  // the middle of [0.05, 0.1] s, in steps
  for (const char* name : {"trials/lateral_deviation", "trials/reaction_time", "trials/endpoint_error"})
    EXPECT_EQ(null_field[name]["shape"], (std::vector<int64_t>{B})) << name;
  for (const auto& [name, record] : null_field.items()) EXPECT_NE(name.rfind("fields/", 0), 0u) << name;

  // The curl field: its force at every step of every trial, active in all of them.
  const auto curl = trial_records(dir / "run" / "eval" / "curl" / "rollout.h5");
  EXPECT_EQ(curl["fields/curl/force"]["shape"], (std::vector<int64_t>{B, T, 2}));
  EXPECT_EQ(curl["fields/curl/force"]["kind"], "f");
  EXPECT_GT(curl["fields/curl/force"]["max"].get<double>() - curl["fields/curl/force"]["min"].get<double>(), 0.0);
  EXPECT_EQ(curl["fields/curl/active"]["sum"], static_cast<double>(B));

  // Channel trials: every trial a probe, reported on its own (none in the per-target numbers).
  const auto channel = trial_records(dir / "run" / "eval" / "channel" / "rollout.h5");
  EXPECT_EQ(channel["fields/channel/active"]["sum"], static_cast<double>(B));
  const auto& channel_summary = summary["evaluation"]["channel"];
  EXPECT_EQ(channel_summary["reach_trials"], 0);
  EXPECT_EQ(channel_summary["channels"]["channel"]["trials"], B);
  EXPECT_GT(channel_summary["channels"]["channel"]["mean_peak_force_N"].get<double>(), 0.0);
  EXPECT_TRUE(channel_summary["channels"]["channel"]["mean_lateral_push_N"].is_number());

  // Catch trials: no go cue (-1), every trial flagged, the drift reported.
  const auto catch_records = trial_records(dir / "run" / "eval" / "catch" / "rollout.h5");
  EXPECT_EQ(catch_records["trials/catch"]["sum"], static_cast<double>(B));
  EXPECT_EQ(catch_records["trials/go_cue_step"]["max"], -1.0);
  EXPECT_EQ(catch_records["trials/kind"]["min"], 2.0);
  const auto& catch_summary = summary["evaluation"]["catch"];
  EXPECT_EQ(catch_summary["reach_trials"], 0);
  EXPECT_EQ(catch_summary["catch"]["trials"], B);
  EXPECT_GE(catch_summary["catch"]["mean_drift_m"].get<double>(), 0.0);
  // The null field's reaches are all in the per-target numbers, with their lateral deviation and reaction time.
  EXPECT_EQ(summary["evaluation"]["null_field"]["reach_trials"], B);
  EXPECT_TRUE(summary["evaluation"]["null_field"]["targets"][0].contains("lateral_deviation_m"));

  // motornet-eval: one condition, an unknown one, and every snapshot under two conditions.
  const auto one = testing::run_command(fmt::format("{} {} --condition catch --out {}", MOTORNET_EVAL_PATH,
                                                    (dir / "run").string(), (dir / "only_catch").string()));
  ASSERT_EQ(one.status, 0) << one.output;
  EXPECT_TRUE(fs::exists(dir / "only_catch" / "catch" / "rollout.h5"));
  EXPECT_FALSE(fs::exists(dir / "only_catch" / "curl"));
  EXPECT_EQ(read_json(dir / "only_catch" / "catch" / "summary.json")["catch"]["mean_drift_m"],
            catch_summary["catch"]["mean_drift_m"]);  // the same trials, drawn from the evaluation seed
  const auto unknown = testing::run_command(fmt::format("{} {} --condition washout", MOTORNET_EVAL_PATH,
                                                        (dir / "run").string()));
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.output.find("unknown condition 'washout'; the run defines: null_field, curl, channel, catch"),
            std::string::npos)
      << unknown.output;
  const auto snapshots = testing::run_command(fmt::format("{} {} --snapshots --condition null_field --condition curl "
                                                          "--out {}",
                                                          MOTORNET_EVAL_PATH, (dir / "run").string(),
                                                          (dir / "snapshots").string()));
  ASSERT_EQ(snapshots.status, 0) << snapshots.output;
  const auto csv = testing::read_text((dir / "snapshots" / "snapshots.csv").string());
  EXPECT_EQ(csv.rfind("batch,phase,condition,loss,mean_endpoint_error_m,mean_lateral_deviation_m", 0), 0u) << csv;
  for (const char* row : {"\n2,training,null_field,", "\n2,training,curl,", "\n4,training,null_field,", "\n4,training,curl,"})
    EXPECT_NE(csv.find(row), std::string::npos) << row << " in\n" << csv;
  EXPECT_TRUE(fs::exists(dir / "snapshots" / "snapshots.png"));

  // A condition whose task observes another number of inputs than the policy was trained on is named, before
  // anything is written.
  const auto reshaped = testing::run_command(fmt::format(
      "{} {} --set 'evaluation.conditions=[{{name: centre_out, set: {{environment.task: {{type: CentreOutReach}}}}}}]' "
      "--out {}",
      MOTORNET_EVAL_PATH, (dir / "run").string(), (dir / "reshaped").string()));
  EXPECT_EQ(reshaped.status, 2) << reshaped.output;
  EXPECT_NE(reshaped.output.find("evaluation condition centre_out: observes"), std::string::npos) << reshaped.output;
  EXPECT_NE(reshaped.output.find("but the trained policy takes"), std::string::npos) << reshaped.output;
  EXPECT_FALSE(fs::exists(dir / "reshaped" / "centre_out" / "rollout.h5"));
}

TEST(EvaluationConditions, BadConditionsAreErrorsNamingTheKey) {
  auto error_of = [](const std::string& evaluation) {
    YAML::Node config = YAML::Load(kExperiment);
    config["evaluation"] = YAML::Load(evaluation);
    try {
      evaluation_settings_from_config(config);
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(error_of("{conditions: [{name: a, set: {policy.hidden_size: 4}}]}")
                .find("evaluation.conditions[0].set.policy.hidden_size: a condition cannot change 'policy'"),
            std::string::npos);
  EXPECT_NE(error_of("{conditions: [{name: a}, {name: a}]}").find("evaluation.conditions[1].name: a condition named 'a'"),
            std::string::npos);
  EXPECT_NE(error_of("{conditions: [{nam: a}]}").find("evaluation.conditions[0].nam: unknown key"), std::string::npos);
  EXPECT_NE(error_of("{batch_size: -1}").find("evaluation.batch_size: must be 0"), std::string::npos);
  EXPECT_NE(error_of("{conditions: []}").find("evaluation.conditions: expected a non-empty list"), std::string::npos);
}

}  // namespace
}  // namespace motornet
