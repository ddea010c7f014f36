// motornet-eval RUN_DIR [--task NAME] [--batch N] [--set key.path=value ...] [--out DIR]
// Evaluates a trained run deterministically (the task's evaluation conditions, no noise) and writes
// rollout.h5, summary.json and figures into DIR (default RUN_DIR/eval). RUN_DIR may be a replicate's directory
// (RUN/replicate_kk: its checkpoint, the run's configuration). Exit status 2 on bad input.

#include <CLI/CLI.hpp>

#include "app_main.h"
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "motornet/train/evaluation.h"
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
  std::vector<std::string> overrides;
  app.add_option("run", run_dir, "run directory written by motornet-train")->required();
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

  auto experiment = experiment_from_config(ConfigNode(config, ""));
  load_policy_weights(*experiment.policy, (run_path / "checkpoint.pt").string());
  auto result = evaluate(*experiment.environment, *experiment.policy, experiment.losses, batch);
  const fs::path out = out_dir.empty() ? run_path / "eval" : fs::path(out_dir);
  YAML::Emitter emitter;
  emitter << config;
  write_evaluation(out.string(), result, *experiment.environment, emitter.c_str());
  if (fs::exists(run_path / "metrics.csv")) plot_loss_curve((run_path / "metrics.csv").string(), (out / "loss").string());

  std::cout << fmt::format("{} trials, loss {:.4f}\n{:>24}  {:>6}  {:>12}  {:>12}  {:>14}\n", result.episode.fingertip.size(0),
                           result.loss, "target (m)", "trials", "error (mm)", "peak (m/s)", "movement (ms)");
  for (const auto& t : result.targets)
    std::cout << fmt::format("{:>24}  {:>6}  {:>12.2f}  {:>12.3f}  {:>14.0f}\n",
                             fmt::format("({:.3f}, {:.3f})", t.target[0], t.target.size() > 1 ? t.target[1] : 0.0),
                             t.trials, 1000 * t.endpoint_error, t.peak_speed, 1000 * t.movement_time);
  std::cout << "written to " << out.string() << "\n";
  return 0;
}

int main(int argc, char** argv) {
  return motornet::run_app("motornet-eval", [&] { return run(argc, argv); });
}
