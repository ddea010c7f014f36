// motornet-train end to end: the run directory's files, --set, --resume, and clear errors with exit status 2
// for bad input, with nothing overwritten.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

namespace fs = std::filesystem;

testing::CommandResult train(const std::string& arguments) {
  return testing::run_command(std::string(MOTORNET_TRAIN_PATH) + " " + arguments);
}

fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("motornet_train_app_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  return dir;
}

const std::string kQuick =
    " --set training.n_batches=4 --set training.batch_size=4 --set training.validation_every=2"
    " --set training.validation_batch_size=4 --set training.checkpoint_every=2 --set environment.max_ep_duration=0.1"
    " --quiet";

std::string tutorial() { return std::string(MOTORNET_CONFIGS_DIR) + "/tutorial_pointmass.yaml"; }

TEST(TrainApp, WritesTheRunDirectoryAndResumes) {
  auto dir = fresh_dir("run");
  auto run = train(tutorial() + " --out " + dir.string() + kQuick);
  ASSERT_EQ(run.status, 0) << run.output;
  for (const char* file : {"config.yaml", "metrics.csv", "checkpoint.pt", "policy.pt", "summary.json"})
    EXPECT_TRUE(fs::exists(dir / file)) << file;
  auto saved = ConfigNode::load_file((dir / "config.yaml").string());
  EXPECT_EQ(saved.at("training").at("n_batches").as_int(), 4);  // the --set values are in the resolved config
  auto summary = nlohmann::json::parse(testing::read_text((dir / "summary.json").string()));
  EXPECT_EQ(summary["batches"], 4);
  EXPECT_TRUE(std::isfinite(summary["validation_loss"].get<double>()));

  // Extend the run: only n_batches may change.
  run = train("--resume " + dir.string() + " --set training.n_batches=6 --quiet");
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(nlohmann::json::parse(testing::read_text((dir / "summary.json").string()))["batches"], 6);
  int rows = 0;
  std::ifstream metrics(dir / "metrics.csv");
  for (std::string line; std::getline(metrics, line);) ++rows;
  EXPECT_EQ(rows, 1 + 6);

  run = train("--resume " + dir.string() + " --set optimizer.lr=0.1 --quiet");
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("the configuration differs"), std::string::npos) << run.output;

  // Training again into the same directory is refused: nothing is overwritten.
  auto before = testing::read_text((dir / "metrics.csv").string());
  run = train(tutorial() + " --out " + dir.string() + kQuick);
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("already holds a run"), std::string::npos) << run.output;
  EXPECT_EQ(testing::read_text((dir / "metrics.csv").string()), before);

  EXPECT_EQ(testing::read_text((dir / "metrics.csv").string()), before);
}

// A run with nothing to plot (no batch, or every loss weight 0) still completes with its summary; the loss
// figure is left out, and motornet-plot says why.
TEST(TrainApp, ARunWithoutAPlottableLossCompletes) {
  for (const std::string& setting : {std::string("training.n_batches=0"),
                                     std::string("losses=[{type: position_l1, weight: 0}]")}) {
    auto dir = fresh_dir("unplottable");
    auto run = train(tutorial() + " --out " + dir.string() + kQuick + " --set '" + setting + "'");
    EXPECT_EQ(run.status, 0) << setting << ": " << run.output;
    EXPECT_TRUE(fs::exists(dir / "summary.json")) << setting;
    EXPECT_FALSE(fs::exists(dir / "loss.png")) << setting;
    auto plot = testing::run_command(std::string(MOTORNET_PLOT_PATH) + " " + dir.string());
    EXPECT_EQ(plot.status, 0) << plot.output;
    EXPECT_NE(plot.output.find("no loss curve: metrics.csv has no batch with a positive loss"), std::string::npos)
        << plot.output;
  }
  // A damaged metrics.csv is named with its line, not "stod".
  auto dir = fresh_dir("damaged_metrics");
  ASSERT_EQ(train(tutorial() + " --out " + dir.string() + kQuick).status, 0);
  std::ofstream(dir / "metrics.csv", std::ios::app) << "12x,0.5,garbage\n";
  auto plot = testing::run_command(std::string(MOTORNET_PLOT_PATH) + " " + dir.string());
  EXPECT_EQ(plot.status, 2) << plot.output;
  EXPECT_NE(plot.output.find("metrics.csv: line 6: '12x' is not a number"), std::string::npos) << plot.output;
}

TEST(TrainApp, BadInput) {
  auto dir = fresh_dir("bad");
  auto run = train(tutorial() + " --out " + dir.string() + kQuick + " --set policy.hiden_size=8");
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("policy.hiden_size: unknown key (did you mean 'hidden_size'?)"), std::string::npos)
      << run.output;
  EXPECT_FALSE(fs::exists(dir / "config.yaml"));

  run = train(tutorial() + " --out " + dir.string() + kQuick + " --set training.batch_size=abc");
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("training.batch_size: expected a number"), std::string::npos) << run.output;

  run = train(tutorial() + " --out /proc/motornet_cannot_write_here" + kQuick);
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("cannot create the run directory"), std::string::npos) << run.output;

  run = train(tutorial() + " --set training.n_batches" + kQuick);
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("expected key.path=value"), std::string::npos) << run.output;

  run = train(dir.parent_path().string() + kQuick);  // a directory given as the configuration
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("is a directory, not a configuration file"), std::string::npos) << run.output;

  run = train(tutorial() + " --out " + dir.string() + kQuick + " --set 'losses=[{type: position_l1, name: \"a,b\"}]'");
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("losses[0].name: 'a,b' cannot name a loss column of metrics.csv"), std::string::npos)
      << run.output;

  run = testing::run_command("MOTORNET_TENSOR_CACHE_MB=lots " + std::string(MOTORNET_TRAIN_PATH) + " " + tutorial() +
                             " --out " + dir.string() + kQuick);
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("MOTORNET_TENSOR_CACHE_MB: must be a whole number of MiB >= 0 (0: keep nothing), got "
                            "'lots'"),
            std::string::npos)
      << run.output;
  EXPECT_FALSE(fs::exists(dir / "config.yaml"));

  run = testing::run_command("WORLD_SIZE=0 " + std::string(MOTORNET_TRAIN_PATH) + " " + tutorial() + kQuick);
  EXPECT_EQ(run.status, 2) << run.output;  // it trained alone, silently
  EXPECT_NE(run.output.find("WORLD_SIZE: must be at least 1, got 0"), std::string::npos) << run.output;

  run = train(tutorial() + " --out " + dir.string() + kQuick + " --set effector.timestep=1e-20");
  EXPECT_EQ(run.status, 2) << run.output;  // the step count overflowed into "1 s is shorter than one timestep"
  EXPECT_NE(run.output.find("timesteps of 1e-20 s; an episode holds at most 1e+07 steps"), std::string::npos)
      << run.output;

  run = train(tutorial() + " --set training.=5" + kQuick);  // was taken as training=5
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("--set: empty key in 'training.'"), std::string::npos) << run.output;

  run = train("--resume " + (dir / "nothing_here").string());
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("no saved configuration"), std::string::npos) << run.output;

  // A corrupt checkpoint is reported, and left as it is.
  auto corrupt = fresh_dir("corrupt");
  ASSERT_EQ(train(tutorial() + " --out " + corrupt.string() + kQuick).status, 0);
  std::ofstream(corrupt / "checkpoint.pt", std::ios::trunc) << "garbage";
  run = train("--resume " + corrupt.string() + " --quiet");
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("corrupt"), std::string::npos) << run.output;
  EXPECT_EQ(testing::read_text((corrupt / "checkpoint.pt").string()), "garbage");

  // A damaged metrics.csv is reported with its file and line when a resume would rewrite it, and left as it is.
  auto damaged = fresh_dir("damaged_metrics");
  ASSERT_EQ(train(tutorial() + " --out " + damaged.string() + kQuick).status, 0);
  std::ofstream(damaged / "metrics.csv", std::ios::app) << "oops,1,2\n";
  const auto damaged_metrics = testing::read_text((damaged / "metrics.csv").string());
  run = train("--resume " + damaged.string() + " --set training.n_batches=6 --quiet");
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("metrics.csv line 6: the batch column is 'oops'"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("stoll"), std::string::npos) << run.output;
  EXPECT_EQ(testing::read_text((damaged / "metrics.csv").string()), damaged_metrics);

  // Given empty or zero, an option is refused rather than taken as its default.
  run = train(tutorial() + " --out ''" + kQuick);
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("--out: is empty"), std::string::npos) << run.output;
  run = train(tutorial() + " --nproc 0 --out " + (dir / "nproc").string() + kQuick);
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("--nproc: must be at least 1, got 0"), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(dir / "nproc"));

  // A directory that holds other files is not trained into.
  auto occupied = fresh_dir("occupied");
  fs::create_directories(occupied);
  std::ofstream(occupied / "notes.txt") << "mine";
  run = train(tutorial() + " --out " + occupied.string() + kQuick);
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("holds files but no run"), std::string::npos) << run.output;
  EXPECT_EQ(testing::read_text((occupied / "notes.txt").string()), "mine");
  EXPECT_FALSE(fs::exists(occupied / "config.yaml"));
}

}  // namespace
}  // namespace motornet
