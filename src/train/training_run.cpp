#include "motornet/train/training_run.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "motornet/core/config.h"
#include "motornet/core/error.h"
#include "motornet/io/atomic_file.h"
#include "motornet/io/figures.h"
#include "motornet/train/evaluation.h"
#include "motornet/train/experiment.h"

namespace motornet {

namespace fs = std::filesystem;

namespace {

YAML::Node load_yaml(const std::string& filename) { return YAML::Clone(ConfigNode::load_file(filename).yaml()); }

// The configuration as text, without training.n_batches (a resumed run may be extended).
std::string comparable(const YAML::Node& config) {
  auto copy = YAML::Clone(config);
  if (copy["training"] && copy["training"].IsMap()) copy["training"].remove("n_batches");
  YAML::Emitter out;
  out << copy;
  return out.c_str();
}

std::string outcome_name(TrainingOutcome outcome) {
  switch (outcome) {
    case TrainingOutcome::kCompleted: return "completed";
    case TrainingOutcome::kInterrupted: return "interrupted";
    default: return "diverged";
  }
}

// The configuration to train and the directory to train in.
std::pair<YAML::Node, fs::path> configuration_and_directory(const TrainingRunOptions& options, bool rank0) {
  YAML::Node config;
  fs::path run_directory;
  if (!options.resume_directory().empty()) {
    run_directory = options.resume_directory();
    const auto saved_file = run_directory / "config.yaml";
    if (!fs::exists(saved_file)) throw InputError(saved_file.string(), "no saved configuration: is this a run directory?");
    YAML::Node saved = load_yaml(saved_file.string());
    config = options.config_file().empty() ? YAML::Clone(saved) : load_yaml(options.config_file());
    for (const auto& assignment : options.overrides()) apply_override(config, assignment);
    if (rank0 && comparable(config) != comparable(saved))
      throw InputError(options.config_file().empty() ? "--set" : options.config_file(),
                       fmt::format("the configuration differs from the one {} was trained with (only training.n_batches "
                                   "may change on --resume); nothing was changed",
                                   run_directory.string()));
    return {config, run_directory};
  }
  if (options.config_file().empty()) throw InputError("config", "give an experiment file (or --resume RUN_DIR)");
  config = load_yaml(options.config_file());
  for (const auto& assignment : options.overrides()) apply_override(config, assignment);
  run_directory = options.run_directory().empty() ? fs::path(timestamped_run_directory(options.config_file()))
                                                  : fs::path(options.run_directory());
  if (rank0 && fs::exists(run_directory)) {  // only a new or empty directory is trained into
    const std::string where = run_directory.string();
    if (fs::exists(run_directory / "checkpoint.pt") || fs::exists(run_directory / "config.yaml"))
      throw InputError(where, "already holds a run; continue it with --resume or choose another --out (nothing was "
                              "overwritten)");
    if (!fs::is_directory(run_directory)) throw InputError(where, "is a file, not a directory; choose another --out");
    if (!fs::is_empty(run_directory))
      throw InputError(where, "holds files but no run; choose an empty or new directory (nothing was overwritten)");
  }
  return {config, run_directory};
}

// Per replicate: summary.json, the evaluation and the loss figure (every replicate is evaluated on the same
// evaluation set, drawn from the configured seed); with replicates, a summary.json of their means on top.
void write_summaries(Experiment& experiment, Trainer& trainer, const TrainingSummary& summary,
                     const fs::path& run_directory, const std::string& config_text) {
  const int64_t K = trainer.n_replicates();
  const std::string outcome = outcome_name(summary.outcome);
  std::vector<LossValues> validation;
  if (summary.outcome != TrainingOutcome::kDiverged) validation = trainer.validate_replicates();
  double mean_validation = 0.0;
  for (const auto& values : validation) mean_validation += values.total.item<double>() / K;
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
}

}  // namespace

std::string saved_configuration_file(const std::string& run_directory) {
  const fs::path run(run_directory);
  const auto own = run / "config.yaml";
  if (fs::exists(own)) return own.string();
  // A replicate's files (checkpoint, metrics, policy) are in replicate_kk/, its configuration one level up.
  const std::string name = fs::path(run).lexically_normal().filename().string();
  const bool replicate = name.size() == 12 && name.rfind("replicate_", 0) == 0 && std::isdigit(name[10]) &&
                         std::isdigit(name[11]);
  const auto parent = fs::path(run).lexically_normal().parent_path() / "config.yaml";
  if (replicate && fs::exists(parent)) return parent.string();
  throw InputError(own.string(), "no saved configuration: is this a run directory?");
}

std::string timestamped_run_directory(const std::string& config_file, const std::string& label) {
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  return (fs::path("runs") / (fs::path(config_file).stem().string() + label + "-" + stamp)).string();
}

TrainingRunResult run_training(const TrainingRunOptions& options) {
  const auto& group = options.data_parallel();
  const bool rank0 = !group || group->rank() == 0;
  const bool resuming = !options.resume_directory().empty();
  auto [config, run_directory] = configuration_and_directory(options, rank0);

  if (group) group->require_same("configuration", comparable(config) + "|" + run_directory.string());
  auto experiment = experiment_from_config(ConfigNode(config, ""));
  experiment.training.quiet(options.quiet()).data_parallel(group).stop(options.stop());
  Trainer trainer(experiment.environment, experiment.replicates, experiment.losses, experiment.optimizer,
                  experiment.training, run_directory.string());
  if (resuming) trainer.resume();
  YAML::Emitter emitter;
  emitter << config;
  const std::string config_text = emitter.c_str();
  if (rank0) write_text_atomically((run_directory / "config.yaml").string(), config_text + "\n");

  if (rank0)
    std::cerr << fmt::format("motornet-train: {} -> {} ({} batches of {}{}{}, starting at batch {})\n",
                             options.config_file().empty() ? run_directory.string() : options.config_file(),
                             run_directory.string(), experiment.training.n_batches(), experiment.training.batch_size(),
                             trainer.n_replicates() > 1 ? fmt::format(", {} replicates", trainer.n_replicates()) : "",
                             group ? fmt::format(", {} processes", group->world_size()) : "", trainer.batches_done());
  TrainingRunResult result{run_directory.string(), trainer.train()};
  if (rank0) write_summaries(experiment, trainer, result.summary, run_directory, config_text);
  return result;
}

}  // namespace motornet
