// Signals to a training process, to a data-parallel launcher alone, and the launcher killed outright: every rank
// stops with its checkpoint written, none trains on as an orphan, and the run resumes.

#include "faults/fault_support.h"

namespace motornet::faults {
namespace {

// SIGINT (Ctrl-C) and SIGTERM (a scheduler's stop) alike: the batch finishes, a checkpoint is written, the exit
// status is 128 + the signal, and the run resumes.
TEST(Signals, CtrlCOrSigtermWritesACheckpointAndTheRunResumes) {
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


TEST(Signals, WorkersDieWithAKilledLauncherAndKeepTheirCheckpoint) {
  const auto dir = fresh_dir("launcher_killed");
  auto [launcher, workers] = start_launcher(dir);
  ASSERT_EQ(workers.size(), 2u) << launcher.output();
  kill(launcher.pid, SIGKILL);
  EXPECT_EQ(launcher.wait(), 128 + SIGKILL);
  EXPECT_TRUE(all_stopped_within(workers, 60.0)) << "workers still training after their launcher was killed";
  for (pid_t worker : workers) kill(worker, SIGKILL);  // none left behind should the test fail
  // They stopped as on SIGTERM: the checkpoint is whole and resumes.
  const int batch = read_checkpoint_batch(dir);
  auto run = train(fmt::format("--resume {} --set training.n_batches={} --quiet", dir.string(), batch + 2));
  EXPECT_EQ(run.status, 0) << run.output;
}

TEST(Signals, SigintOrSigtermToTheLauncherAloneStopsEveryRank) {
  for (int signal : {SIGINT, SIGTERM}) {
    const auto dir = fresh_dir(fmt::format("launcher_signal_{}", signal));
    auto [launcher, workers] = start_launcher(dir);
    ASSERT_EQ(workers.size(), 2u) << launcher.output();
    kill(launcher.pid, signal);  // the launcher only, not its process group
    EXPECT_EQ(launcher.wait_within(60.0), 128 + signal) << launcher.output();
    EXPECT_TRUE(all_stopped_within(workers, 10.0));
    for (pid_t worker : workers) kill(worker, SIGKILL);  // none left behind should the test fail
    EXPECT_EQ(launcher.output().find("waiting up to"), std::string::npos) << launcher.output();
    const int batch = read_checkpoint_batch(dir);
    auto run = train(fmt::format("--resume {} --set training.n_batches={} --quiet", dir.string(), batch + 2));
    EXPECT_EQ(run.status, 0) << "signal " << signal << ": " << run.output;
  }
}

// A hung worker under the launcher: the other reports it within the timeout, and the launcher stops the hung one
// soon after instead of waiting out another timeout.
TEST(Signals, TheLauncherStopsAHungWorkerSoonAfterTheOthersReportIt) {
  const auto dir = fresh_dir("launcher_hung");
  auto launcher = start_train({tutorial(), "--out", dir.string(), "--nproc", "2", "--dist-timeout", "3", "--set",
                               "training.n_batches=100000", "--set", "training.batch_size=8", "--set",
                               "environment.max_ep_duration=0.1", "--set", "training.checkpoint_every=2", "--quiet"},
                              dir.string() + ".launcher.log");
  const auto give_up = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < give_up && !fs::exists(dir / "checkpoint.pt"))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // Rank 1, found by the RANK its launcher gave it.
  auto workers = children_of(launcher.pid);
  ASSERT_EQ(workers.size(), 2u) << launcher.output();
  auto rank_of = [](pid_t pid) {
    std::ifstream environ(fmt::format("/proc/{}/environ", pid));
    for (std::string variable; std::getline(environ, variable, '\0');)
      if (variable.rfind("RANK=", 0) == 0) return std::stoi(variable.substr(5));
    return -1;
  };
  const pid_t rank1 = rank_of(workers[0]) == 1 ? workers[0] : workers[1];
  ASSERT_EQ(rank_of(rank1), 1);
  kill(rank1, SIGSTOP);
  const auto stopped_at = Clock::now();
  EXPECT_EQ(launcher.wait_within(60.0), 4) << launcher.output();
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - stopped_at).count(), 25.0) << launcher.output();
  EXPECT_NE(launcher.output().find("stopping worker rank 1"), std::string::npos) << launcher.output();
  for (pid_t worker : workers) kill(worker, SIGKILL);
}

}  // namespace
}  // namespace motornet::faults
