// motornet-sweep CONFIG.yaml --grid key.path=v1,v2,... [--grid ...] [--jobs J] [--out DIR] [--set key=value ...]
// Runs the cartesian product of the grids as separate motornet-train runs, J at a time, each in DIR/<name>/
// (its log in DIR/<name>.log), then writes DIR/summary.csv and DIR/summary.md: every run's outcome, final
// training loss, validation loss and evaluation metrics. Rerunning the same command skips finished runs and
// resumes interrupted ones. Every combination is checked before anything starts.
// Exit status: 0 every run completed, 2 bad input, 5 a run failed or diverged (see the table), 130 interrupted.

#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app_main.h"
#include "motornet/scale/sweep_runner.h"
#include "motornet/train/experiment.h"
#include "motornet/train/training_run.h"

namespace fs = std::filesystem;
using namespace motornet;

namespace {

// The sweep's stop flag, for the SIGINT/SIGTERM handler (a handler can reach nothing else).
std::atomic<bool>* interrupt_flag = nullptr;
void on_interrupt(int) {
  if (interrupt_flag) interrupt_flag->store(true);
}

int run(int argc, char** argv) {
  CLI::App app{"Train every combination of a parameter grid"};
  SweepRunOptions options;
  std::vector<std::string> grids;
  app.add_option("config", options.config_file, "experiment file (YAML)")->required();
  app.add_option("--grid", grids, "key.path=v1,v2,...: one axis of the grid (repeatable)")->required();
  app.add_option("--jobs,-j", options.jobs, "runs at a time (default 1)");
  app.add_option("--threads", options.threads, "LibTorch threads per run (default 1)");
  app.add_option("--out", options.directory, "sweep directory (default: runs/<config name>-sweep-<date>-<time>)");
  app.add_option("--set", options.overrides, "override a configuration value for every run: key.path=value (repeatable)");
  if (auto status = parse_command_line(app, argc, argv)) return *status;
  for (const auto& grid : grids) options.axes.push_back(parse_sweep_axis(grid));
  if (options.directory.empty()) options.directory = timestamped_run_directory(options.config_file, "-sweep");
  options.trainer_program = (fs::read_symlink("/proc/self/exe").parent_path() / "motornet-train").string();
  options.check_configuration = [](const YAML::Node& configuration) {
    experiment_from_config(ConfigNode(configuration, ""));
  };
  interrupt_flag = options.stop.flag();
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  const auto sweep = run_sweep(options);
  std::ifstream table(fs::path(options.directory) / "summary.md");
  std::cout << table.rdbuf();
  if (sweep.stopped) return 130;
  for (const auto& result : sweep.results)
    if (result.outcome != "completed") return 5;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return motornet::run_app("motornet-sweep", [&] { return run(argc, argv); });
}
