// motornet-eval RUN_DIR [--condition NAME ...] [--snapshots] [--task NAME] [--batch N] [--set key.path=value ...]
//               [--out DIR]
// Evaluates a trained run deterministically (the task's evaluation set, no noise) and writes rollout.h5,
// summary.json and figures into DIR (default RUN_DIR/eval), or DIR/<condition>/ for each of the configuration's
// evaluation conditions (train/evaluation_conditions.h). --snapshots evaluates every snapshot instead and writes
// DIR/snapshots.csv and its figure. RUN_DIR may be a replicate's directory (RUN/replicate_kk: its checkpoint, the
// run's configuration). Exit status 2 on bad input.

#include <CLI/CLI.hpp>

#include "app_main.h"
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "motornet/train/evaluation.h"
#include "motornet/train/evaluation_conditions.h"
#include "motornet/train/experiment.h"
#include "motornet/train/training_run.h"
#include "motornet/io/figures.h"
#include "motornet/motornet.h"

namespace fs = std::filesystem;
using namespace motornet;

int run(int argc, char** argv) {
  CLI::App app{"Evaluate a trained MotorNet run"};
  std::string run_dir, task, out_dir;
  int64_t batch = 0;
  std::vector<std::string> overrides, condition_names;
  bool snapshots = false;
  app.add_option("run", run_dir, "run directory written by motornet-train")->required();
  app.add_option("--condition", condition_names,
                 "evaluate this condition of the configuration's evaluation.conditions (repeatable; default: all)");
  app.add_flag("--snapshots", snapshots, "evaluate every snapshot (snapshots/) under each condition: snapshots.csv");
  auto* task_option = app.add_option("--task", task, "evaluate on another task type (same observation size)");
  auto* batch_option =
      app.add_option("--batch", batch, "number of trials (default: the task's evaluation set, else 64)");
  app.add_option("--set", overrides, "override a configuration value: key.path=value (repeatable)");
  auto* out_option = app.add_option("--out", out_dir, "output directory (default: RUN_DIR/eval)");
  if (auto status = parse_command_line(app, argc, argv)) return *status;
  // Given, an option must say something: an empty or zero value is refused rather than taken as the default.
  require(task_option->count() == 0 || !task.empty(), "--task", "is empty; give a task type (or leave --task out)");
  require(batch_option->count() == 0 || batch >= 1, "--batch", fmt::format("must be at least 1, got {}", batch));
  require(out_option->count() == 0 || !out_dir.empty(), "--out", "is empty; give a directory (or leave --out out)");
  const fs::path run_path(run_dir);
  const auto config_file = saved_configuration_file(run_dir);
  require(out_dir.empty() || !fs::exists(out_dir) || !fs::equivalent(out_dir, run_path), "--out",
          "is the run directory itself: the evaluation would overwrite the run's summary.json; choose another");
  YAML::Node config = YAML::Clone(ConfigNode::load_file(config_file).yaml());
  if (!task.empty()) apply_override(config, "environment.task.type=" + task, "--task");
  for (const auto& assignment : overrides) apply_override(config, assignment);

  const auto settings = evaluation_settings_from_config(config);
  const auto conditions = select_conditions(settings, condition_names);
  const int64_t trials = batch_option->count() ? batch : settings.batch_size;
  const fs::path out = out_dir.empty() ? run_path / "eval" : fs::path(out_dir);
  if (snapshots) {
    evaluate_snapshots(config, run_dir, conditions, trials, out.string());
    std::cout << "written to " << (out / "snapshots.csv").string() << "\n";
    return 0;
  }
  auto experiment = experiment_from_config(ConfigNode(config, ""));
  load_policy_weights(*experiment.policy, (run_path / "checkpoint.pt").string());
  const auto report = evaluate_and_write(config, conditions, *experiment.policy, trials, out.string());
  if (fs::exists(run_path / "metrics.csv")) plot_loss_curve((run_path / "metrics.csv").string(), (out / "loss").string());

  auto print = [](const nlohmann::json& summary) {
    std::cout << fmt::format("{} trials, loss {:.4f}\n{:>24}  {:>6}  {:>12}  {:>14}  {:>12}  {:>14}\n",
                             summary["trials"].get<int64_t>(), summary["loss"].get<double>(), "target (m)", "trials",
                             "error (mm)", "lateral (mm)", "peak (m/s)", "movement (ms)");
    for (const auto& t : summary["targets"]) {
      const auto target = t["target"].get<std::vector<double>>();
      std::cout << fmt::format("{:>24}  {:>6}  {:>12.2f}  {:>14.2f}  {:>12.3f}  {:>14.0f}\n",
                               fmt::format("({:.3f}, {:.3f})", target[0], target.size() > 1 ? target[1] : 0.0),
                               t["trials"].get<int64_t>(), 1000 * t["endpoint_error_m"].get<double>(),
                               1000 * t["lateral_deviation_m"].get<double>(), t["peak_speed_m_per_s"].get<double>(),
                               1000 * t["movement_time_s"].get<double>());
    }
  };
  if (conditions.empty()) {
    print(report);
  } else {
    for (const auto& condition : conditions) {
      std::cout << "condition " << condition.name << ": ";
      print(report[condition.name]);
    }
  }
  std::cout << "written to " << out.string() << "\n";
  return 0;
}

int main(int argc, char** argv) {
  return motornet::run_app("motornet-eval", [&] { return run(argc, argv); });
}
