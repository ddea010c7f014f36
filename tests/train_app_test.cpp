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

  // A checkpoint of another run (another seed), or a config.yaml edited by hand, is refused: the checkpoint
  // records the configuration it was written under.
  auto other = fresh_dir("other_seed");
  ASSERT_EQ(train(tutorial() + " --out " + other.string() + kQuick + " --set seed=7").status, 0);
  fs::copy_file(dir / "checkpoint.pt", other / "checkpoint.pt", fs::copy_options::overwrite_existing);
  run = train("--resume " + other.string() + " --set training.n_batches=8 --quiet");
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("checkpoint.pt: was written under another configuration"), std::string::npos) << run.output;
  std::string edited = testing::read_text((dir / "config.yaml").string());
  edited.replace(edited.find("lr: 1.0e-3"), 10, "lr: 5.0e-4");
  std::ofstream(dir / "config.yaml") << edited;
  run = train("--resume " + dir.string() + " --set training.n_batches=8 --quiet");
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("or config.yaml was edited"), std::string::npos) << run.output;
  EXPECT_EQ(testing::read_text((dir / "metrics.csv").string()), before);
}

// SIGINT (Ctrl-C) and SIGTERM (a scheduler's stop) alike: the batch finishes, a checkpoint is written, the exit
// status is 128 + the signal, and the run resumes.
TEST(TrainApp, ASecondWriterOfARunDirectoryIsRefusedNamingTheFirst) {
  auto dir = fresh_dir("locked");
  // While a run trains, a --resume of its directory is refused with the trainer's PID, and changes nothing.
  std::string command = fmt::format(
      "sh -c '{0} {1} --out {2} --quiet --set training.n_batches=100000 --set training.batch_size=4 "
      "--set environment.max_ep_duration=0.1 --set training.validation_every=0 & pid=$!; "
      "while [ ! -s {2}/metrics.csv ]; do sleep 0.2; done; "
      "{0} --resume {2} --quiet > {3}/second.txt 2>&1; echo $? > {3}/second_status.txt; "
      "echo $pid > {3}/first_pid.txt; kill -INT $pid; wait $pid'",
      MOTORNET_TRAIN_PATH, tutorial(), dir.string(), dir.parent_path().string());
  std::system(command.c_str());
  const auto second = testing::read_text((dir.parent_path() / "second.txt").string());
  EXPECT_EQ(testing::read_text((dir.parent_path() / "second_status.txt").string()), "2\n") << second;
  std::string pid = testing::read_text((dir.parent_path() / "first_pid.txt").string());
  pid.pop_back();
  EXPECT_NE(second.find(dir.string() + ": is being written by another process (PID " + pid + ")"), std::string::npos)
      << second;
  // The first run went on and stopped cleanly; its directory resumes once it has ended (the lock went with it).
  auto summary = nlohmann::json::parse(testing::read_text((dir / "summary.json").string()));
  EXPECT_EQ(summary["outcome"], "interrupted");
  const int64_t done = summary["batches"].get<int64_t>();
  auto run = train("--resume " + dir.string() + " --quiet --set training.n_batches=" + std::to_string(done + 1));
  EXPECT_EQ(run.status, 0) << run.output;
}

// A full disk (here: a file-size limit, whose signal is ignored so that writes fail with EFBIG as on a full
// disk) while a checkpoint is written: a clean exit 2 naming the file, no temporary file left, nothing aborted.
TEST(TrainApp, AFailedCheckpointWriteIsACleanErrorThatLeavesNoTemporaryFile) {
  auto dir = fresh_dir("disk_full");
  fs::create_directories(dir);
  const auto run = testing::run_command(fmt::format("sh -c \"trap '' XFSZ; ulimit -f 40; {} {} --out {}{}\"",
                                                    MOTORNET_TRAIN_PATH, tutorial(), dir.string(), kQuick));
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("checkpoint.pt: could not write the file"), std::string::npos) << run.output;
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
  EXPECT_FALSE(fs::exists(dir / "checkpoint.pt"));
}

// The same for a TorchScript file (a snapshot, written before the first checkpoint here): LibTorch's archive
// writer would abort in its destructor; the policy is serialised in memory and the write checked instead.
TEST(TrainApp, AFailedTorchScriptWriteIsACleanErrorThatLeavesNoTemporaryFile) {
  auto dir = fresh_dir("disk_full_snapshot");
  fs::create_directories(dir);
  const auto run = testing::run_command(
      fmt::format("sh -c \"trap '' XFSZ; ulimit -f 16; {} {} --out {}{} --set training.snapshot_every=1\"",
                  MOTORNET_TRAIN_PATH, tutorial(), dir.string(), kQuick));
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("batch_000001.pt: could not write the file"), std::string::npos) << run.output;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
  EXPECT_FALSE(fs::exists(dir / "snapshots" / "batch_000001.pt"));
}

// Figures too: a figure that cannot be written is exit 2 naming it, with the previous figure kept whole.
TEST(TrainApp, AFailedFigureWriteKeepsThePreviousFigure) {
  auto dir = fresh_dir("disk_full_figure");
  ASSERT_EQ(train(tutorial() + " --out " + dir.string() + kQuick).status, 0);
  const auto before = testing::read_text((dir / "loss.png").string());
  ASSERT_GT(before.size(), 2048u);
  const auto run = testing::run_command(
      fmt::format("sh -c \"trap '' XFSZ; ulimit -f 2; {} {}\"", MOTORNET_PLOT_PATH, dir.string()));
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("loss.png: cannot write the figure"), std::string::npos) << run.output;
  EXPECT_EQ(testing::read_text((dir / "loss.png").string()), before);
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
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

// Sizes no machine holds are refused from the configuration, naming the key, before anything is allocated or
// written (they used to end in an allocator's stack trace).
TEST(TrainApp, RunsTooLargeForTheMachineAreRefusedNamingTheKey) {
  for (const auto& [setting, key] : std::vector<std::pair<std::string, std::string>>{
           {"training.batch_size=100000000", "training.batch_size"},
           {"policy.hidden_size=1000000", "policy.hidden_size"},
           {"training.replicates=1000000", "training.replicates"},
           {"training.validation_batch_size=1000000000", "training.validation_batch_size"},
           {"policy={type: MLP, hidden_sizes: [10000000, 10000000]}", "policy.hidden_sizes"}}) {
    auto dir = fresh_dir("too_large");
    auto run = train(tutorial() + " --out " + dir.string() + " --quiet --set '" + setting + "'");
    EXPECT_EQ(run.status, 2) << setting << ": " << run.output;
    EXPECT_NE(run.output.find(key + ": this run needs at least"), std::string::npos) << setting << ": " << run.output;
    EXPECT_NE(run.output.find("is available; make it smaller"), std::string::npos) << run.output;
    EXPECT_FALSE(fs::exists(dir / "config.yaml")) << setting;
  }
}

TEST(TrainApp, CtrlCOrSigtermWritesACheckpointAndTheRunResumes) {
  for (const auto& [signal, expected_status] : std::vector<std::pair<std::string, int>>{{"INT", 130}, {"TERM", 143}}) {
    auto dir = fresh_dir("interrupted_" + signal);
    // The signal is sent once training has begun (metrics.csv exists), when the handler is in place.
    std::string command = fmt::format(
        "sh -c '{} {} --out {} --quiet --set training.n_batches=100000 --set training.batch_size=4 "
        "--set environment.max_ep_duration=0.1 --set training.validation_every=0 & pid=$!; "
        "while [ ! -s {}/metrics.csv ]; do sleep 0.2; done; sleep 1; kill -{} $pid; wait $pid; exit $?'",
        MOTORNET_TRAIN_PATH, tutorial(), dir.string(), dir.string(), signal);
    int status = std::system(command.c_str());
    ASSERT_TRUE(WIFEXITED(status)) << signal;
    EXPECT_EQ(WEXITSTATUS(status), expected_status) << signal;
    auto summary = nlohmann::json::parse(testing::read_text((dir / "summary.json").string()));
    EXPECT_EQ(summary["outcome"], "interrupted") << signal;
    const int64_t done = summary["batches"].get<int64_t>();
    EXPECT_GT(done, 0) << signal;
    auto run = train("--resume " + dir.string() + " --quiet --set training.n_batches=" + std::to_string(done + 2));
    ASSERT_EQ(run.status, 0) << run.output;
    summary = nlohmann::json::parse(testing::read_text((dir / "summary.json").string()));
    EXPECT_EQ(summary["batches"], done + 2);
    // The recent mean spans both sessions; a resume with nothing left to train still reports it.
    EXPECT_TRUE(summary["mean_loss_last_100_batches"].is_number()) << summary.dump();
    run = train("--resume " + dir.string() + " --quiet --set training.n_batches=" + std::to_string(done + 2));
    ASSERT_EQ(run.status, 0) << run.output;
    summary = nlohmann::json::parse(testing::read_text((dir / "summary.json").string()));
    EXPECT_TRUE(summary["mean_loss_last_100_batches"].is_number()) << summary.dump();
  }
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
