// motornet-sweep CONFIG.yaml --grid key.path=v1,v2,... [--grid ...] [--jobs J] [--out DIR] [--set key=value ...]
// Runs the cartesian product of the grids as separate motornet-train runs, J at a time, each in DIR/<name>/
// (its log in DIR/<name>.log), then writes DIR/summary.csv and DIR/summary.md: every run's outcome, final
// training loss, validation loss and evaluation metrics. Rerunning the same command skips finished runs and
// resumes interrupted ones. Every combination is checked before anything starts.
// Exit status: 0 every run completed, 2 bad input, 5 a run failed or diverged (see the table), 130 interrupted.

#include <CLI/CLI.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "app_main.h"
#include <fmt/format.h>

#include "motornet/train/experiment.h"
#include "motornet/io/atomic_file.h"
#include "motornet/scale/launcher.h"
#include "motornet/scale/sweep.h"

namespace fs = std::filesystem;
using namespace motornet;

namespace {

volatile sig_atomic_t interrupted = 0;
void on_interrupt(int) { interrupted = 1; }

int run(int argc, char** argv) {
  CLI::App app{"Train every combination of a parameter grid"};
  std::string config_file, out_dir;
  std::vector<std::string> grids, overrides;
  int jobs = 1, threads = 1;
  app.add_option("config", config_file, "experiment file (YAML)")->required();
  app.add_option("--grid", grids, "key.path=v1,v2,...: one axis of the grid (repeatable)")->required();
  app.add_option("--jobs,-j", jobs, "runs at a time (default 1)");
  app.add_option("--threads", threads, "LibTorch threads per run (default 1)");
  app.add_option("--out", out_dir, "sweep directory (default: runs/<config name>-sweep-<date>-<time>)");
  app.add_option("--set", overrides, "override a configuration value for every run: key.path=value (repeatable)");
  if (auto status = parse_command_line(app, argc, argv)) return *status;
  require(jobs >= 1, "--jobs", fmt::format("must be at least 1, got {}", jobs));
  require(threads >= 1, "--threads", fmt::format("must be at least 1, got {}", threads));

  YAML::Node base = YAML::Clone(ConfigNode::load_file(config_file).yaml());
  for (const auto& assignment : overrides) apply_override(base, assignment);
  std::vector<SweepAxis> axes;
  for (const auto& grid : grids) axes.push_back(parse_sweep_axis(grid));
  const auto points = sweep_points(axes);
  // Check every combination now: a typo in the last value must not surface hours into the sweep.
  for (size_t i = 0; i < points.size(); ++i) {
    try {
      experiment_from_config(ConfigNode(sweep_configuration(base, points[i]), ""));
    } catch (const InputError& error) {
      throw InputError(sweep_run_name(i, points[i]), error.what());
    }
  }

  if (out_dir.empty()) out_dir = timestamped_run_directory(config_file, "-sweep").string();
  std::error_code error;
  fs::create_directories(out_dir, error);
  require(!error && fs::is_directory(out_dir), out_dir.c_str(), "cannot create the sweep directory");
  {
    YAML::Node record;
    record["config"] = fs::absolute(config_file).string();
    for (const auto& assignment : overrides) record["set"].push_back(assignment);
    for (const auto& axis : axes) record["grid"][axis.key] = axis.values;
    YAML::Emitter emitter;
    emitter << record;
    write_text_atomically((fs::path(out_dir) / "sweep.yaml").string(), std::string(emitter.c_str()) + "\n");
  }

  const std::string trainer = (fs::read_symlink("/proc/self/exe").parent_path() / "motornet-train").string();
  require(fs::exists(trainer), trainer.c_str(), "motornet-train is not next to motornet-sweep");
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);

  std::vector<SweepResult> results(points.size());
  std::map<pid_t, size_t> running;
  std::map<size_t, std::chrono::steady_clock::time_point> started;
  size_t next = 0, finished = 0;
  std::cerr << fmt::format("motornet-sweep: {} runs of {} in {}, {} at a time\n", points.size(), config_file, out_dir, jobs);
  auto report = [&](size_t i) {
    const auto& r = results[i];
    std::cerr << fmt::format("[{}/{}] {}: {}{}\n", ++finished, points.size(), r.name, r.outcome,
                             r.final_loss ? fmt::format(", final loss {:.4f}", *r.final_loss) : "");
  };
  while ((next < points.size() && !interrupted) || !running.empty()) {
    while (next < points.size() && !interrupted && static_cast<int>(running.size()) < jobs) {
      const size_t i = next++;
      const std::string name = sweep_run_name(i, points[i]);
      const fs::path directory = fs::path(out_dir) / name;
      auto previous = read_sweep_result(directory.string());
      if (previous.outcome == "completed") {
        results[i] = previous;
        results[i].point = points[i];
        results[i].outcome = "completed";
        std::cerr << fmt::format("[{}/{}] {}: done before, skipped\n", ++finished, points.size(), name);
        continue;
      }
      std::vector<std::string> arguments;
      if (fs::exists(directory / "checkpoint.pt")) {
        arguments = {"--resume", directory.string()};
      } else {
        fs::remove_all(directory);  // a run that failed before writing a checkpoint starts again
        arguments = {config_file, "--out", directory.string()};
        for (const auto& assignment : overrides) arguments.insert(arguments.end(), {"--set", assignment});
        for (const auto& [key, value] : points[i]) arguments.insert(arguments.end(), {"--set", key + "=" + value});
      }
      arguments.push_back("--quiet");
      running[spawn_process(trainer, arguments, {{"OMP_NUM_THREADS", std::to_string(threads)}},
                            (fs::path(out_dir) / (name + ".log")).string())] = i;
      started[i] = std::chrono::steady_clock::now();
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0 && running.count(pid)) {
      const size_t i = running[pid];
      running.erase(pid);
      const fs::path directory = fs::path(out_dir) / sweep_run_name(i, points[i]);
      results[i] = read_sweep_result(directory.string());
      results[i].point = points[i];
      results[i].exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (results[i].exit_status != 0 && results[i].outcome == "completed") results[i].outcome = "failed";
      report(i);
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (size_t i = next; i < points.size(); ++i) {
    results[i].name = sweep_run_name(i, points[i]);
    results[i].point = points[i];
    results[i].outcome = "not started";
  }
  write_sweep_summary(out_dir, axes, results);
  std::ifstream table(fs::path(out_dir) / "summary.md");
  std::cout << table.rdbuf();
  if (interrupted) return 130;
  for (const auto& r : results)
    if (r.outcome != "completed") return 5;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return motornet::run_app("motornet-sweep", [&] { return run(argc, argv); });
}
