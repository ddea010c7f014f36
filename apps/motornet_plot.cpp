// motornet-plot RUN_DIR: redraws a run's figures from its files: the loss curve from metrics.csv and the
// rollout figures from eval/rollout.h5 (written by motornet-eval or at the end of motornet-train).

#include <CLI/CLI.hpp>

#include "app_main.h"
#include "motornet/train/training_run.h"

#include <filesystem>
#include <iostream>

#include "motornet/body/effector_config.h"
#include "motornet/core/error.h"
#include "motornet/train/evaluation.h"
#include "motornet/io/figures.h"

namespace fs = std::filesystem;
using namespace motornet;

int run(int argc, char** argv) {
  CLI::App app{"Redraw the figures of a MotorNet run"};
  std::string run_dir;
  app.add_option("run", run_dir, "run directory")->required();
  if (auto status = parse_command_line(app, argc, argv)) return *status;
  const fs::path run_path(run_dir);
  bool drew = false;
  if (fs::exists(run_path / "metrics.csv")) {
    if (plot_loss_curve((run_path / "metrics.csv").string(), (run_path / "loss").string())) {
      std::cout << "drew " << (run_path / "loss.png").string() << "\n";
      drew = true;
    } else {
      std::cout << "no loss curve: metrics.csv has no batch with a positive loss\n";
    }
  }
  const auto rollout_file = run_path / "eval" / "rollout.h5";
  if (fs::exists(rollout_file)) {
    auto config = ConfigNode::load_file(saved_configuration_file(run_path.string()));
    auto effector = effector_from_config(config.at("effector"));
    draw_rollout_figures((run_path / "eval").string(), episode_from_rollout_file(rollout_file.string()), *effector);
    std::cout << "drew the rollout figures in " << (run_path / "eval").string() << "\n";
    drew = true;
  }
  if (!drew)
    throw InputError(run_dir, fs::exists(run_path / "metrics.csv")
                                  ? "nothing to plot: metrics.csv has no batch with a positive loss and there is no "
                                    "eval/rollout.h5"
                                  : "neither metrics.csv nor eval/rollout.h5 is there to plot");
  return 0;
}

int main(int argc, char** argv) {
  return motornet::run_app("motornet-plot", [&] { return run(argc, argv); });
}
