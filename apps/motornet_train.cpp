// motornet-train CONFIG.yaml [--out DIR] [--set key.path=value ...] [--resume RUN_DIR]
// Trains the policy an experiment file describes and writes, in the run directory: config.yaml (the resolved
// configuration), metrics.csv, checkpoint.pt, policy.pt (TorchScript) and summary.json.
// Exit status: 0 done, 2 bad input, 3 the loss diverged (last good checkpoint kept), 130 interrupted (Ctrl-C;
// checkpoint written, continue with --resume).

#include <CLI/CLI.hpp>

#include "app_main.h"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "motornet/evaluation.h"
#include "motornet/io/atomic_file.h"
#include "motornet/io/figures.h"
#include "motornet/motornet.h"

namespace fs = std::filesystem;
using namespace motornet;

namespace {

void on_interrupt(int) { Trainer::global_stop_flag()->store(true); }

YAML::Node load_yaml(const std::string& filename) { return YAML::Clone(ConfigNode::load_file(filename).yaml()); }

// The configuration as text, without training.n_batches (a resumed run may be extended).
std::string comparable(YAML::Node config) {
  auto copy = YAML::Clone(config);
  if (copy["training"] && copy["training"].IsMap()) copy["training"].remove("n_batches");
  YAML::Emitter out;
  out << copy;
  return out.c_str();
}


// runs/<config name>-<date>-<time>: a new directory for every run started without --out.
fs::path default_run_directory(const std::string& config_file) {
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  return fs::path("runs") / (fs::path(config_file).stem().string() + "-" + stamp);
}

int run(int argc, char** argv) {
  CLI::App app{"Train a MotorNet policy from an experiment file"};
  std::string config_file, out_dir, resume_dir;
  std::vector<std::string> overrides;
  bool quiet = false;
  app.add_option("config", config_file, "experiment file (YAML)");
  app.add_option("--out", out_dir, "run directory (default: runs/<config name>-<date>-<time>)");
  app.add_option("--set", overrides, "override a configuration value: key.path=value (repeatable)");
  app.add_option("--resume", resume_dir, "continue the run in this directory from its checkpoint");
  app.add_flag("--quiet", quiet, "no progress output");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }

  YAML::Node config;
  fs::path run_directory;
  const bool resuming = !resume_dir.empty();
  if (resuming) {
    run_directory = resume_dir;
    const auto saved_file = run_directory / "config.yaml";
    if (!fs::exists(saved_file)) throw InputError(saved_file.string(), "no saved configuration: is this a run directory?");
    YAML::Node saved = load_yaml(saved_file.string());
    config = config_file.empty() ? YAML::Clone(saved) : load_yaml(config_file);
    for (const auto& assignment : overrides) apply_override(config, assignment);
    if (comparable(config) != comparable(saved))
      throw InputError(config_file.empty() ? "--set" : config_file,
                       fmt::format("the configuration differs from the one {} was trained with (only training.n_batches "
                                   "may change on --resume); nothing was changed",
                                   run_directory.string()));
  } else {
    if (config_file.empty()) throw InputError("config", "give an experiment file (or --resume RUN_DIR)");
    config = load_yaml(config_file);
    for (const auto& assignment : overrides) apply_override(config, assignment);
    run_directory = out_dir.empty() ? default_run_directory(config_file) : fs::path(out_dir);
    if (fs::exists(run_directory / "checkpoint.pt") || fs::exists(run_directory / "config.yaml"))
      throw InputError(run_directory.string(),
                       "already holds a run; continue it with --resume or choose another --out (nothing was overwritten)");
  }

  auto experiment = experiment_from_config(ConfigNode(config, ""));
  experiment.training.quiet(quiet);
  Trainer trainer(experiment.environment, experiment.policy, experiment.losses, experiment.optimizer,
                  experiment.training, run_directory.string());
  if (resuming) trainer.resume();
  {
    YAML::Emitter emitter;
    emitter << config;
    write_text_atomically((run_directory / "config.yaml").string(), std::string(emitter.c_str()) + "\n");
  }

  std::signal(SIGINT, on_interrupt);
  std::cerr << fmt::format("motornet-train: {} -> {} ({} batches of {}, starting at batch {})\n",
                           config_file.empty() ? run_directory.string() : config_file, run_directory.string(),
                           experiment.training.n_batches(), experiment.training.batch_size(), trainer.batches_done());
  auto summary = trainer.train();
  std::signal(SIGINT, SIG_DFL);

  nlohmann::json report = {{"batches", summary.batches_done},
                           {"seconds_this_run", summary.seconds},
                           {"mean_loss_last_100_batches", summary.mean_recent_loss},
                           {"outcome", summary.outcome == TrainingOutcome::kCompleted     ? "completed"
                                       : summary.outcome == TrainingOutcome::kInterrupted ? "interrupted"
                                                                                           : "diverged"},
                           {"message", summary.message}};
  if (summary.outcome != TrainingOutcome::kDiverged) {
    auto validation = trainer.validate();
    report["validation_loss"] = validation.total.item<double>();
    for (const auto& [name, value] : validation.terms) report["validation_" + name] = value.item<double>();
    // The evaluation set and the figures, as motornet-eval would write them.
    YAML::Emitter emitter;
    emitter << config;
    auto evaluation = evaluate(*experiment.environment, *experiment.policy, experiment.losses);
    write_evaluation((run_directory / "eval").string(), evaluation, *experiment.environment, emitter.c_str());
    plot_loss_curve((run_directory / "metrics.csv").string(), (run_directory / "loss").string());
    report["evaluation"] = to_json(evaluation);
  }
  write_text_atomically((run_directory / "summary.json").string(), report.dump(2) + "\n");
  std::cerr << fmt::format("motornet-train: {}; mean loss of the last 100 batches {:.4f}{}\n", summary.message,
                           summary.mean_recent_loss,
                           report.contains("validation_loss")
                               ? fmt::format(", validation loss {:.4f}", report["validation_loss"].get<double>())
                               : "");
  switch (summary.outcome) {
    case TrainingOutcome::kCompleted: return 0;
    case TrainingOutcome::kInterrupted: return 130;
    default: return 3;
  }
}

}  // namespace

int main(int argc, char** argv) {
  return motornet::run_app("motornet-train", [&] { return run(argc, argv); });
}
