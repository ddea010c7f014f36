// motornet-train CONFIG.yaml [--out DIR] [--set key.path=value ...] [--resume RUN_DIR] [--nproc N]
// Trains the policy an experiment file describes and writes, in the run directory: config.yaml (the resolved
// configuration), metrics.csv, checkpoint.pt, policy.pt (TorchScript) and summary.json; with
// training.replicates K > 1, each replicate's metrics, checkpoint, policy and evaluation in replicate_kk/.
// Data-parallel: --nproc N starts N local workers; a worker started by another launcher (torchrun-style
// RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT in the environment) joins its group. Rank 0 writes the files.
// Exit status: 0 done, 2 bad input, 3 the loss diverged (last good checkpoint kept), 4 another data-parallel
// rank failed (last checkpoint kept), 130 interrupted (Ctrl-C; checkpoint written, continue with --resume).

#include <CLI/CLI.hpp>

#include "app_main.h"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "motornet/train/evaluation.h"
#include "motornet/io/atomic_file.h"
#include "motornet/io/figures.h"
#include "motornet/scale/launcher.h"
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


int exit_status(TrainingOutcome outcome) {
  switch (outcome) {
    case TrainingOutcome::kCompleted: return 0;
    case TrainingOutcome::kInterrupted: return 130;
    default: return 3;
  }
}

int run(int argc, char** argv) {
  CLI::App app{"Train a MotorNet policy from an experiment file"};
  std::string config_file, out_dir, resume_dir;
  std::vector<std::string> overrides;
  bool quiet = false;
  int nproc = 0;
  double dist_timeout = 300.0;
  app.add_option("config", config_file, "experiment file (YAML)");
  app.add_option("--nproc", nproc, "start this many local data-parallel worker processes");
  app.add_option("--dist-timeout", dist_timeout,
                 "s a data-parallel worker waits for a missing or hung rank before stopping (default 300)");
  app.add_option("--out", out_dir, "run directory (default: runs/<config name>-<date>-<time>)");
  app.add_option("--set", overrides, "override a configuration value: key.path=value (repeatable)");
  app.add_option("--resume", resume_dir, "continue the run in this directory from its checkpoint");
  app.add_flag("--quiet", quiet, "no progress output");
  if (auto status = parse_command_line(app, argc, argv)) return *status;
  require(dist_timeout > 0.0, "--dist-timeout", fmt::format("must be positive, got {}", dist_timeout));
  if (nproc != 0) {
    require(nproc >= 1, "--nproc", fmt::format("must be at least 1, got {}", nproc));
    require(!DistributedOptions::in_environment(), "--nproc",
            "this process is already a data-parallel worker (WORLD_SIZE is set); unset it or drop --nproc");
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
      launch.arguments.insert(launch.arguments.end(), {"--out", timestamped_run_directory(config_file).string()});
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
  const bool rank0 = !group || group->rank() == 0;

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
    if (rank0 && comparable(config) != comparable(saved))
      throw InputError(config_file.empty() ? "--set" : config_file,
                       fmt::format("the configuration differs from the one {} was trained with (only training.n_batches "
                                   "may change on --resume); nothing was changed",
                                   run_directory.string()));
  } else {
    if (config_file.empty()) throw InputError("config", "give an experiment file (or --resume RUN_DIR)");
    config = load_yaml(config_file);
    for (const auto& assignment : overrides) apply_override(config, assignment);
    run_directory = out_dir.empty() ? timestamped_run_directory(config_file) : fs::path(out_dir);
    if (rank0 && (fs::exists(run_directory / "checkpoint.pt") || fs::exists(run_directory / "config.yaml")))
      throw InputError(run_directory.string(),
                       "already holds a run; continue it with --resume or choose another --out (nothing was overwritten)");
  }

  if (group) group->require_same("configuration", comparable(config) + "|" + run_directory.string());
  auto experiment = experiment_from_config(ConfigNode(config, ""));
  experiment.training.quiet(quiet).data_parallel(group);
  Trainer trainer(experiment.environment, experiment.replicates, experiment.losses, experiment.optimizer,
                  experiment.training, run_directory.string());
  if (resuming) trainer.resume();
  YAML::Emitter emitter;
  emitter << config;
  const std::string config_text = emitter.c_str();
  if (rank0) write_text_atomically((run_directory / "config.yaml").string(), config_text + "\n");

  std::signal(SIGINT, on_interrupt);
  if (rank0)
    std::cerr << fmt::format("motornet-train: {} -> {} ({} batches of {}{}{}, starting at batch {})\n",
                             config_file.empty() ? run_directory.string() : config_file, run_directory.string(),
                             experiment.training.n_batches(), experiment.training.batch_size(),
                             trainer.n_replicates() > 1 ? fmt::format(", {} replicates", trainer.n_replicates()) : "",
                             group ? fmt::format(", {} processes", group->world_size()) : "", trainer.batches_done());
  auto summary = trainer.train();
  std::signal(SIGINT, SIG_DFL);
  if (!rank0) return exit_status(summary.outcome);

  const std::string outcome = summary.outcome == TrainingOutcome::kCompleted     ? "completed"
                              : summary.outcome == TrainingOutcome::kInterrupted ? "interrupted"
                                                                                 : "diverged";
  const int64_t K = trainer.n_replicates();
  std::vector<LossValues> validation;
  if (summary.outcome != TrainingOutcome::kDiverged) validation = trainer.validate_replicates();
  double mean_validation = 0.0;
  for (const auto& values : validation) mean_validation += values.total.item<double>() / K;
  // One summary per replicate (the run's own without replicates); every replicate is evaluated on the same
  // evaluation set, drawn from the configured seed.
  nlohmann::json replicates = nlohmann::json::array();
  for (int64_t k = 0; k < K; ++k) {
    const fs::path directory = trainer.replicate_directory(k);
    nlohmann::json report = {{"batches", summary.batches_done},
                             {"seconds_this_run", summary.seconds},
                             {"mean_loss_last_100_batches", summary.replicate_recent_loss.at(k)},
                             {"outcome", outcome},
                             {"message", summary.message}};
    if (K > 1) report["replicate"] = k, report["seed"] = experiment.seed + k;
    if (!validation.empty()) {
      report["validation_loss"] = validation[k].total.item<double>();
      for (const auto& [name, value] : validation[k].terms) report["validation_" + name] = value.item<double>();
      experiment.environment->seed(experiment.seed);
      auto evaluation = evaluate(*experiment.environment, *trainer.replicate_policy(k), experiment.losses);
      write_evaluation((directory / "eval").string(), evaluation, *experiment.environment, config_text);
      plot_loss_curve((directory / "metrics.csv").string(), (directory / "loss").string());
      report["evaluation"] = to_json(evaluation);
    }
    write_text_atomically((directory / "summary.json").string(), report.dump(2) + "\n");
    replicates.push_back(report);
  }
  if (K > 1) {
    nlohmann::json report = {{"batches", summary.batches_done},     {"seconds_this_run", summary.seconds},
                             {"replicates", K},                     {"outcome", outcome},
                             {"message", summary.message},          {"mean_loss_last_100_batches", summary.mean_recent_loss},
                             {"replicate_summaries", replicates}};
    if (!validation.empty()) report["mean_validation_loss"] = mean_validation;
    write_text_atomically((run_directory / "summary.json").string(), report.dump(2) + "\n");
  }
  std::cerr << fmt::format("motornet-train: {}; mean loss of the last 100 batches {:.4f}{}{}\n", summary.message,
                           summary.mean_recent_loss,
                           validation.empty() ? "" : fmt::format(", validation loss {:.4f}", mean_validation),
                           K > 1 ? fmt::format(" (means over {} replicates)", K) : "");
  return exit_status(summary.outcome);
}

}  // namespace

int main(int argc, char** argv) {
  return motornet::run_app("motornet-train", [&] { return run(argc, argv); });
}
