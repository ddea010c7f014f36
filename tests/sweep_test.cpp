// Sweeps: grid parsing, the cartesian product, and motornet-sweep end to end (runs, summary table, skipping
// finished runs on a rerun, every combination checked before anything starts).

#include <gtest/gtest.h>

#include <filesystem>

#include "motornet/io/atomic_file.h"
#include "motornet/motornet.h"
#include "motornet/scale/sweep.h"
#include "test_support.h"

namespace motornet {
namespace {

namespace fs = std::filesystem;

TEST(Sweep, GridsParseAndMultiply) {
  auto axis = parse_sweep_axis("policy.hidden_size=8,16,32");
  EXPECT_EQ(axis.key, "policy.hidden_size");
  EXPECT_EQ(axis.values, (std::vector<std::string>{"8", "16", "32"}));
  auto lists = parse_sweep_axis("optimizer.betas=[0.9, 0.999],[0.8, 0.99]");
  EXPECT_EQ(lists.values, (std::vector<std::string>{"[0.9, 0.999]", "[0.8, 0.99]"}));
  auto points = sweep_points({axis, parse_sweep_axis("seed=0,1")});
  ASSERT_EQ(points.size(), 6u);
  EXPECT_EQ(points[1], (SweepPoint{{"policy.hidden_size", "8"}, {"seed", "1"}}));  // the last axis varies fastest
  EXPECT_EQ(points[5], (SweepPoint{{"policy.hidden_size", "32"}, {"seed", "1"}}));
  // Lists and maps stay readable in directory names.
  EXPECT_EQ(sweep_run_name(4, {{"optimizer.betas", "[0.9, 0.999]"}}), "004_optimizer.betas=0.9,0.999");
  EXPECT_EQ(sweep_run_name(7, {{"environment.task.fields", "[{type: curl, strength: -15}]"}, {"optimizer.lr", "1e-3"}}),
            "007_environment.task.fields=type-curl,strength--15_optimizer.lr=1e-3");
  EXPECT_EQ(sweep_run_name(1, {{"policy.type", "a/b"}}), "001_policy.type=a-b");
  for (const char* bad : {"seed", "=1,2", "seed=1,,2", "seed=[1,2"}) EXPECT_THROW(parse_sweep_axis(bad), InputError) << bad;
  EXPECT_THROW(sweep_points({axis, axis}), InputError);
  auto config = sweep_configuration(YAML::Load("seed: 0\npolicy: {type: GRU}"), points[5]);
  EXPECT_EQ(config["policy"]["hidden_size"].as<int>(), 32);
  EXPECT_EQ(config["seed"].as<int>(), 1);
}

testing::CommandResult sweep(const std::string& arguments) {
  return testing::run_command(std::string(MOTORNET_SWEEP_PATH) + " " + arguments);
}

const std::string kQuick =
    " --set training.n_batches=3 --set training.batch_size=4 --set training.validation_every=3"
    " --set training.validation_batch_size=4 --set training.checkpoint_every=0 --set environment.max_ep_duration=0.1";

TEST(SweepApp, RunsTheGridWritesTheTableAndSkipsFinishedRuns) {
  const auto out = fs::temp_directory_path() / ("motornet_sweep_" + std::to_string(::getpid()));
  fs::remove_all(out);
  const std::string command = std::string(MOTORNET_CONFIGS_DIR) + "/tutorial_pointmass.yaml --grid optimizer.lr=0.01,0.001" +
                              " --grid seed=1,2 --jobs 2 --out " + out.string() + kQuick;
  auto run = sweep(command);
  ASSERT_EQ(run.status, 0) << run.output;
  auto csv = testing::read_text((out / "summary.csv").string());
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 4) << csv;
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "run,optimizer.lr,seed,outcome,exit_status,batches,seconds,final_loss,validation_loss,evaluation_loss,"
            "endpoint_error_m");
  // Each row carries its own run's numbers.
  for (const auto& name : {"000_optimizer.lr=0.01_seed=1", "003_optimizer.lr=0.001_seed=2"}) {
    auto result = read_sweep_result((out / name).string());
    EXPECT_EQ(result.outcome, "completed");
    ASSERT_TRUE(result.final_loss && result.evaluation_loss);
    auto summary = nlohmann::json::parse(testing::read_text((out / name / "summary.json").string()));
    EXPECT_DOUBLE_EQ(*result.final_loss, summary["mean_loss_last_100_batches"].get<double>());
    const auto row_start = csv.find(std::string(name) + ",");
    ASSERT_NE(row_start, std::string::npos) << csv;
    EXPECT_NE(csv.substr(row_start, csv.find('\n', row_start) - row_start).find(",completed,0,3,"), std::string::npos) << csv;
    auto saved = ConfigNode::load_file((out / name / "config.yaml").string());
    EXPECT_EQ(saved.at("seed").as_int(), std::string(name).back() - '0');
  }
  EXPECT_TRUE(fs::exists(out / "summary.md"));
  // Different seeds, different results.
  EXPECT_NE(*read_sweep_result((out / "000_optimizer.lr=0.01_seed=1").string()).final_loss,
            *read_sweep_result((out / "001_optimizer.lr=0.01_seed=2").string()).final_loss);

  run = sweep(command);
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("done before, skipped"), std::string::npos) << run.output;

  // A rerun with another --set, grid or configuration would skip runs that no longer match: refused, with
  // sweep.yaml and the runs untouched.
  const auto record = testing::read_text((out / "sweep.yaml").string());
  const auto expect_refused = [&](const std::string& changed_command, const std::string& what) {
    auto refused = sweep(changed_command);
    EXPECT_EQ(refused.status, 2) << refused.output;
    EXPECT_NE(refused.output.find("holds a sweep with another " + what), std::string::npos) << refused.output;
    EXPECT_EQ(testing::read_text((out / "sweep.yaml").string()), record);
  };
  expect_refused(command + " --set training.batch_size=8", "--set overrides");
  const std::string other_grid = std::string(MOTORNET_CONFIGS_DIR) + "/tutorial_pointmass.yaml --grid optimizer.lr=0.01,0.002" +
                                 " --grid seed=1,2 --jobs 2 --out " + out.string() + kQuick;
  expect_refused(other_grid, "grid");
  const auto edited = out.parent_path() / ("motornet_sweep_edited_" + std::to_string(::getpid()) + ".yaml");
  fs::copy_file(std::string(MOTORNET_CONFIGS_DIR) + "/tutorial_pointmass.yaml", edited, fs::copy_options::overwrite_existing);
  expect_refused(edited.string() + " --grid optimizer.lr=0.01,0.001 --grid seed=1,2 --jobs 2 --out " + out.string() + kQuick,
                 "config");
  fs::remove(edited);
  // The same file path with other contents (edited since): the recorded digest no longer matches.
  {
    std::string altered = record;
    const auto at = altered.find("config_sha256: ");
    ASSERT_NE(at, std::string::npos) << record;
    altered.replace(at + 15, 4, "0000");
    write_text_atomically((out / "sweep.yaml").string(), altered);
    auto refused = sweep(command);
    EXPECT_EQ(refused.status, 2) << refused.output;
    EXPECT_NE(refused.output.find("another configuration contents"), std::string::npos) << refused.output;
    write_text_atomically((out / "sweep.yaml").string(), record);
  }
  EXPECT_EQ(read_sweep_result((out / "000_optimizer.lr=0.01_seed=1").string()).outcome, "completed");
  fs::remove_all(out);
}

TEST(SweepApp, ABadCombinationStopsEverythingBeforeItStarts) {
  const auto out = fs::temp_directory_path() / ("motornet_sweep_bad_" + std::to_string(::getpid()));
  fs::remove_all(out);
  auto run = sweep(std::string(MOTORNET_CONFIGS_DIR) + "/tutorial_pointmass.yaml --grid optimizer.lr=0.01,-1 --out " +
                   out.string() + kQuick);
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("001_optimizer.lr=-1"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("optimizer.lr: must be positive"), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(out));
  run = sweep(std::string(MOTORNET_CONFIGS_DIR) + "/tutorial_pointmass.yaml --grid polcy.hidden_size=8 --out " + out.string());
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("did you mean 'policy'?"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace motornet
