#pragma once
// Helpers of the fault suite: the apps run as a user (or a hostile environment) would run them, with faults
// injected from outside: a file-size limit standing in for a full disk (its SIGXFSZ ignored, so that writes fail
// with EFBIG as they would with ENOSPC), a second process on the same run directory, signals to a launcher and
// its workers, checkpoints from other runs, and sizes no machine holds.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet::faults {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("motornet_faults_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  return dir;
}

inline std::string tutorial() { return std::string(MOTORNET_CONFIGS_DIR) + "/tutorial_pointmass.yaml"; }

// A few short batches with a checkpoint and a validation on the way.
const std::string kQuick =
    " --set training.n_batches=4 --set training.batch_size=4 --set training.validation_every=2"
    " --set training.validation_batch_size=4 --set training.checkpoint_every=2 --set environment.max_ep_duration=0.1"
    " --quiet";

inline testing::CommandResult train(const std::string& arguments) {
  return testing::run_command(std::string(MOTORNET_TRAIN_PATH) + " " + arguments);
}

using Worker = testing::Worker;

inline Worker start_train(const std::vector<std::string>& arguments, const fs::path& log) {
  fs::remove(log);  // spawn_process appends
  return Worker{spawn_process(MOTORNET_TRAIN_PATH, arguments, {}, log.string()), log.string()};
}

inline int read_checkpoint_batch(const fs::path& run) {
  torch::serialize::InputArchive archive;
  archive.load_from((run / "checkpoint.pt").string());
  torch::Tensor batch;
  archive.read("batch", batch);
  return static_cast<int>(batch.item<int64_t>());
}

// The process ids whose parent is `parent` (from /proc).
inline std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: the command may hold spaces, so read after its closing parenthesis.
    std::istringstream fields(line.substr(line.rfind(')') + 1));
    std::string state;
    pid_t ppid = -1;
    fields >> state >> ppid;
    if (ppid == parent) children.push_back(static_cast<pid_t>(std::stoi(name)));
  }
  return children;
}

// Still running (a zombie waiting for its new parent to reap it has stopped running).
inline bool running(pid_t pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(stat, line)) return false;
  std::istringstream fields(line.substr(line.rfind(')') + 1));
  std::string state;
  fields >> state;
  return state != "Z" && state != "X";
}

// A `--nproc 2` launcher with a long run, returned once its two workers have logged a few batches and written a
// checkpoint, with the workers' pids.
inline std::pair<Worker, std::vector<pid_t>> start_launcher(const fs::path& dir) {
  auto launcher = start_train({tutorial(), "--out", dir.string(), "--nproc", "2", "--set", "training.n_batches=100000",
                               "--set", "training.batch_size=8", "--set", "environment.max_ep_duration=0.1", "--set",
                               "training.checkpoint_every=2", "--quiet"},
                              dir.string() + ".launcher.log");
  const auto give_up = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < give_up && !(fs::exists(dir / "checkpoint.pt") && fs::exists(dir / "metrics.csv")))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return {launcher, children_of(launcher.pid)};
}

inline bool all_stopped_within(const std::vector<pid_t>& pids, double seconds) {
  const auto give_up = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (Clock::now() < give_up) {
    bool any = false;
    for (pid_t pid : pids) any = any || running(pid);
    if (!any) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace motornet::faults
