// Data-parallel training end to end, through motornet-train on loopback: 1 and 2 processes reach the same
// parameters, --resume works with another process count, and failures (a killed or hung rank, a busy port, bad
// ranks and world sizes, different configurations) are reported naming the problem.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <torch/script.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("motornet_data_parallel_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  return dir;
}

std::string tutorial() { return std::string(MOTORNET_CONFIGS_DIR) + "/tutorial_pointmass.yaml"; }

// Short episodes with every kind of noise, so that the random streams matter.
const std::vector<std::string> kQuick = {
    "--set", "training.batch_size=8", "--set", "training.validation_every=2", "--set",
    "training.validation_batch_size=4", "--set", "training.checkpoint_every=2", "--set",
    "environment.max_ep_duration=0.1", "--set", "environment.proprioception_noise=0.01", "--set",
    "environment.action_noise=0.02", "--set", "policy.hidden_noise=0.01", "--quiet"};

// A worker started as another launcher would: with RANK, WORLD_SIZE, MASTER_* in its environment, its output
// in `log`.
using Worker = testing::Worker;

Worker start_train(const std::vector<std::string>& arguments, const std::vector<std::pair<std::string, std::string>>& environment,
                   const fs::path& log) {
  fs::remove(log);  // spawn_process appends
  return Worker{spawn_process(MOTORNET_TRAIN_PATH, arguments, environment, log.string()), log.string()};
}

std::vector<std::pair<std::string, std::string>> rank_environment(int rank, int world, int port) {
  return {{"RANK", std::to_string(rank)}, {"WORLD_SIZE", std::to_string(world)}, {"MASTER_ADDR", "127.0.0.1"},
          {"MASTER_PORT", std::to_string(port)}};
}

std::vector<std::string> arguments(std::vector<std::string> head, const std::vector<std::string>& tail = kQuick) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

testing::CommandResult train(const std::vector<std::string>& args) {
  std::string line = MOTORNET_TRAIN_PATH;
  for (const auto& argument : args) line += " '" + argument + "'";
  return testing::run_command(line);
}

std::vector<torch::Tensor> exported_parameters(const fs::path& run) {
  std::vector<torch::Tensor> result;
  auto module = torch::jit::load((run / "policy.pt").string());
  for (const auto& parameter : module.named_parameters()) result.push_back(parameter.value.detach().clone());
  return result;
}

void expect_same_parameters(const fs::path& a, const fs::path& b, const std::string& what) {
  auto x = exported_parameters(a), y = exported_parameters(b);
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_WITHIN(x[i], y[i], 1e-5, 1e-4, what << ", parameter " << i);
}

TEST(DataParallel, OneAndTwoProcessesReachTheSameParametersAndResumeAcrossCounts) {
  const auto one = fresh_dir("one"), two = fresh_dir("two"), switched = fresh_dir("switched");
  auto run = train(arguments({tutorial(), "--out", one.string(), "--set", "training.n_batches=4"}));
  ASSERT_EQ(run.status, 0) << run.output;
  run = train(arguments({tutorial(), "--out", two.string(), "--set", "training.n_batches=4", "--nproc", "2"}));
  ASSERT_EQ(run.status, 0) << run.output;
  expect_same_parameters(one, two, "1 vs 2 processes after 4 batches");
  // The same batches: rank 0 logs the global loss, equal to the single process's.
  auto a = testing::read_text((one / "metrics.csv").string()), b = testing::read_text((two / "metrics.csv").string());
  EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), std::count(b.begin(), b.end(), '\n'));

  // Two batches on two processes, then two more on one.
  run = train(arguments({tutorial(), "--out", switched.string(), "--set", "training.n_batches=2", "--nproc", "2"}));
  ASSERT_EQ(run.status, 0) << run.output;
  run = train({"--resume", switched.string(), "--set", "training.n_batches=4", "--quiet"});
  ASSERT_EQ(run.status, 0) << run.output;
  expect_same_parameters(one, switched, "2 processes then 1 (resumed) vs 1 process");
  // Only rank 0 wrote files: no stray temporaries from the other rank.
  for (const auto& entry : fs::directory_iterator(two))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
}

int read_checkpoint_batch(const fs::path& run) {
  torch::serialize::InputArchive archive;
  archive.load_from((run / "checkpoint.pt").string());
  torch::Tensor batch;
  archive.read("batch", batch);
  return static_cast<int>(batch.item<int64_t>());
}

// Starts a long two-rank run and returns once rank 0 has logged `batches` batches.
std::pair<Worker, Worker> start_long_run(const fs::path& dir, int port, double timeout, int batches) {
  auto args = arguments({tutorial(), "--out", dir.string(), "--set", "training.n_batches=100000",
                         "--dist-timeout", fmt::format("{}", timeout)});
  auto rank0 = start_train(args, rank_environment(0, 2, port), dir.string() + ".rank0.log");
  auto rank1 = start_train(args, rank_environment(1, 2, port), dir.string() + ".rank1.log");
  const auto give_up = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < give_up) {
    std::ifstream metrics(dir / "metrics.csv");
    int lines = 0;
    for (std::string line; std::getline(metrics, line);) ++lines;
    if (lines > batches && fs::exists(dir / "checkpoint.pt")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return {rank0, rank1};
}

TEST(DataParallel, AKilledRankStopsTheOthersNamingItAndTheCheckpointResumes) {
  const auto dir = fresh_dir("killed");
  auto [rank0, rank1] = start_long_run(dir, free_local_port(), 60.0, 6);
  kill(rank1.pid, SIGKILL);
  const auto killed_at = Clock::now();
  EXPECT_EQ(rank1.wait(), 128 + SIGKILL);
  EXPECT_EQ(rank0.wait(), 4) << rank0.output();
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - killed_at).count(), 30.0);
  EXPECT_NE(rank0.output().find("rank 1 stopped responding"), std::string::npos) << rank0.output();
  // The last checkpoint is intact and resumes (on one process).
  const int batch = read_checkpoint_batch(dir);
  EXPECT_GE(batch, 2);
  auto run = train({"--resume", dir.string(), "--set", fmt::format("training.n_batches={}", batch + 2), "--quiet"});
  EXPECT_EQ(run.status, 0) << run.output;
}

TEST(DataParallel, AHungRankStopsTheOthersWithinTheTimeout) {
  const auto dir = fresh_dir("hung");
  auto [rank0, rank1] = start_long_run(dir, free_local_port(), 3.0, 4);
  kill(rank1.pid, SIGSTOP);
  const auto stopped_at = Clock::now();
  EXPECT_EQ(rank0.wait(), 4) << rank0.output();
  const double waited = std::chrono::duration<double>(Clock::now() - stopped_at).count();
  EXPECT_LT(waited, 20.0);
  EXPECT_NE(rank0.output().find("rank 1 stopped responding"), std::string::npos) << rank0.output();
  kill(rank1.pid, SIGKILL);
  rank1.wait();
}

TEST(DataParallel, StartErrorsAreNamed) {
  const auto dir = fresh_dir("errors");
  // A busy port.
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  socklen_t length = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  const int busy = ntohs(address.sin_port);
  auto worker = start_train(arguments({tutorial(), "--out", (dir / "busy").string()}), rank_environment(0, 2, busy),
                            dir.string() + ".busy.log");
  EXPECT_EQ(worker.wait(), 2) << worker.output();
  EXPECT_NE(worker.output().find("MASTER_PORT"), std::string::npos) << worker.output();
  EXPECT_NE(worker.output().find("already in use"), std::string::npos) << worker.output();
  close(listener);

  // Ranks without a shared run directory (each would stamp its own default one).
  worker = start_train(arguments({tutorial()}), rank_environment(0, 2, free_local_port()), dir.string() + ".noout.log");
  EXPECT_EQ(worker.wait(), 2) << worker.output();
  EXPECT_NE(worker.output().find("--out: data-parallel ranks must share one run directory"), std::string::npos)
      << worker.output();

  // A rank outside the world.
  worker = start_train(arguments({tutorial(), "--out", (dir / "rank").string()}), rank_environment(2, 2, free_local_port()),
                       dir.string() + ".rank.log");
  EXPECT_EQ(worker.wait(), 2) << worker.output();
  EXPECT_NE(worker.output().find("RANK: must lie in [0, WORLD_SIZE = 2), got 2"), std::string::npos) << worker.output();

  // Ranks that disagree on the world size.
  int port = free_local_port();
  auto r0 = start_train(arguments({tutorial(), "--out", (dir / "world").string(), "--dist-timeout", "3"}),
                        rank_environment(0, 2, port), dir.string() + ".world0.log");
  auto r1 = start_train(arguments({tutorial(), "--out", (dir / "world").string(), "--dist-timeout", "3"}),
                        rank_environment(1, 3, port), dir.string() + ".world1.log");
  EXPECT_EQ(r1.wait(), 2) << r1.output();
  EXPECT_NE(r1.output().find("WORLD_SIZE: is 3 at rank 1 but 2 at rank 0"), std::string::npos) << r1.output();
  EXPECT_NE(r0.wait(), 0) << r0.output();

  // Ranks started with different configurations.
  port = free_local_port();
  r0 = start_train(arguments({tutorial(), "--out", (dir / "config").string(), "--dist-timeout", "10"}),
                   rank_environment(0, 2, port), dir.string() + ".config0.log");
  r1 = start_train(arguments({tutorial(), "--out", (dir / "config").string(), "--dist-timeout", "10", "--set",
                              "optimizer.lr=0.01"}),
                   rank_environment(1, 2, port), dir.string() + ".config1.log");
  for (auto* w : {&r0, &r1}) {
    EXPECT_EQ(w->wait(), 2) << w->output();
    EXPECT_NE(w->output().find("rank 1 was started with a different configuration from rank 0's"), std::string::npos)
        << w->output();
  }
  EXPECT_FALSE(fs::exists(dir / "config" / "checkpoint.pt"));

  // A global batch that does not split evenly, for the run or for one of its phases, and any other bad key: the
  // launcher says so once, before a worker starts (no run directory is made).
  auto args = arguments({tutorial(), "--out", (dir / "uneven").string(), "--nproc", "2", "--set", "training.n_batches=2"});
  args.insert(args.end(), {"--set", "training.batch_size=5"});
  auto run = train(args);
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("training.batch_size: 5 trials cannot be split evenly across 2 processes"),
            std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("worker rank"), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(dir / "uneven"));
  args = arguments({tutorial(), "--out", (dir / "uneven_phase").string(), "--nproc", "2", "--set",
                    "phases=[{name: first, n_batches: 1}, {name: second, n_batches: 1, set: {training.batch_size: 7}}]"});
  run = train(args);
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("phase 'second': training.batch_size: 7 trials cannot be split evenly"), std::string::npos)
      << run.output;
  EXPECT_EQ(run.output.find("worker rank"), std::string::npos) << run.output;
  args = arguments({tutorial(), "--out", (dir / "typo").string(), "--nproc", "2", "--set", "training.n_batchs=2"});
  run = train(args);
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_EQ(std::count(run.output.begin(), run.output.end(), '\n'), 1) << run.output;  // one line, not one per rank
  EXPECT_NE(run.output.find("n_batchs"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace motornet
