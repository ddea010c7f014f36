// motornet-train CONFIG.yaml [--out DIR] [--set key.path=value ...] [--init-from PATH] [--resume RUN_DIR] [--nproc N]
// Trains the policy an experiment file describes and writes, in the run directory: config.yaml (the resolved
// configuration), metrics.csv, checkpoint.pt, policy.pt (TorchScript) and summary.json; with
// training.replicates K > 1, each replicate's metrics, checkpoint, policy and evaluation in replicate_kk/.
// Data-parallel: --nproc N starts N local workers; a worker started by another launcher (torchrun-style
// RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT in the environment) joins its group. Rank 0 writes the files.
// Exit status: 0 done, 2 bad input, 3 the loss diverged (last good checkpoint kept), 4 another data-parallel
// rank failed (last checkpoint kept), 130 interrupted by SIGINT (Ctrl-C) or 143 by SIGTERM (checkpoint written,
// continue with --resume).

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>

#include "app_main.h"
#include "motornet/scale/launcher.h"
#include "motornet/train/configuration_keys.h"
#include "motornet/train/launch_check.h"
#include "motornet/train/training_run.h"

namespace fs = std::filesystem;
using namespace motornet;

namespace {

// The running training's stop flag and the signal that set it, for the SIGINT/SIGTERM handler (a handler can
// reach nothing else).
std::atomic<bool>* interrupt_flag = nullptr;
volatile sig_atomic_t interrupt_signal = 0;
void on_interrupt(int signal) {
  interrupt_signal = signal;
  if (interrupt_flag) interrupt_flag->store(true);
}

// 130 after SIGINT, 143 after SIGTERM (128 + the signal, as a shell reports a process killed by it).
int exit_status(TrainingOutcome outcome) {
  switch (outcome) {
    case TrainingOutcome::kCompleted: return 0;
    case TrainingOutcome::kInterrupted: return 128 + (interrupt_signal ? interrupt_signal : SIGINT);
    default: return 3;
  }
}

int run(int argc, char** argv) {
  CLI::App app{"Train a MotorNet policy from an experiment file"};
  std::string config_file, out_dir, resume_dir, init_from;
  std::vector<std::string> overrides;
  bool quiet = false;
  int nproc = 0;
  double dist_timeout = 300.0;
  app.add_option("config", config_file, "experiment file (YAML)");
  auto* nproc_option = app.add_option("--nproc", nproc, "start this many local data-parallel worker processes");
  app.add_option("--dist-timeout", dist_timeout,
                 "s a data-parallel worker waits for a missing or hung rank before stopping (default 300)");
  auto* out_option = app.add_option("--out", out_dir, "run directory (default: runs/<config name>-<date>-<time>)");
  app.add_option("--set", overrides, "override a configuration value: key.path=value (repeatable)");
  app.add_option("--resume", resume_dir, "continue the run in this directory from its checkpoint");
  auto* init_option = app.add_option("--init-from", init_from,
                                     "start from the policy another run trained (its directory, a snapshot or a policy.pt)");
  app.add_flag("--quiet", quiet, "no progress output");
  bool list_options = false;
  app.add_flag("--list-options", list_options, "print every configuration key with its default and meaning (Markdown)");
  if (auto status = parse_command_line(app, argc, argv)) return *status;
  if (list_options) {
    std::cout << configuration_keys_markdown();
    return 0;
  }
  require(dist_timeout > 0.0, "--dist-timeout", fmt::format("must be positive, got {}", dist_timeout));
  require(out_option->count() == 0 || !out_dir.empty(), "--out", "is empty; give a directory (or leave --out out)");
  require(init_option->count() == 0 || !init_from.empty(), "--init-from", "is empty; give a run directory or policy file");
  require(init_from.empty() || resume_dir.empty(), "--init-from",
          "starts a new run from another run's policy; a resumed run continues from its own checkpoint");
  if (nproc_option->count() > 0) {
    require(nproc >= 1, "--nproc", fmt::format("must be at least 1, got {}", nproc));
    require(!DistributedOptions::in_environment(), "--nproc",
            "this process is already a data-parallel worker (WORLD_SIZE is set); unset it or drop --nproc");
    // The configuration is checked once, here, before any worker starts.
    TrainingRunOptions checked;
    checked.config_file(config_file).overrides(overrides).run_directory(out_dir).resume_directory(resume_dir);
    checked.init_from(init_from);
    check_before_launch(checked, nproc);
    LaunchOptions launch;
    launch.nproc = nproc;
    launch.program = fs::read_symlink("/proc/self/exe").string();
    for (int i = 1; i < argc; ++i) {
      const std::string argument = argv[i];
      if (argument == "--nproc") { ++i; continue; }
      if (argument.rfind("--nproc=", 0) == 0) continue;
      launch.arguments.push_back(argument);
    }
    // One default run directory for all workers (each would stamp its own time).
    if (out_dir.empty() && resume_dir.empty() && !config_file.empty())
      launch.arguments.insert(launch.arguments.end(), {"--out", timestamped_run_directory(config_file)});
    launch.environment.push_back({"MOTORNET_DIST_TIMEOUT", fmt::format("{}", dist_timeout)});
    launch.grace = dist_timeout + 30.0;
    return launch_workers(launch);
  }
  std::shared_ptr<DataParallelGroup> group;
  if (DistributedOptions::in_environment()) {
    auto options = DistributedOptions::from_environment();
    if (!std::getenv("MOTORNET_DIST_TIMEOUT")) options.timeout(dist_timeout);
    require(options.world_size() == 1 || !out_dir.empty() || !resume_dir.empty(), "--out",
            "data-parallel ranks must share one run directory: give every rank the same --out");
    if (options.world_size() > 1) group = std::make_shared<DataParallelGroup>(options);
  }
  TrainingRunOptions options;
  options.config_file(config_file).overrides(overrides).run_directory(out_dir).resume_directory(resume_dir);
  options.init_from(init_from);
  options.quiet(quiet).data_parallel(group);
  interrupt_flag = options.stop().flag();
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  const auto result = run_training(options);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  interrupt_flag = nullptr;
  return exit_status(result.summary.outcome);
}

}  // namespace

int main(int argc, char** argv) {
  return motornet::run_app("motornet-train", [&] { return run(argc, argv); });
}
