#include "motornet/train/training_run.h"

#include "motornet/train/launch_check.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>

#include "motornet/core/config.h"
#include "motornet/core/error.h"
#include "motornet/core/sha256.h"
#include "motornet/io/atomic_file.h"
#include "motornet/io/directory_lock.h"
#include "motornet/io/figures.h"
#include "motornet/train/evaluation.h"
#include "motornet/train/evaluation_conditions.h"
#include "motornet/train/experiment.h"
#include "motornet/train/phases.h"
#include "motornet/train/warm_start.h"

namespace motornet {

namespace fs = std::filesystem;

namespace {

// ", 10 replicates" and how they share the threads.
std::string replicates_phrase(const Trainer& trainer) {
  const int64_t groups = trainer.n_replicate_groups();
  return fmt::format(", {} replicates{}", trainer.n_replicates(),
                     groups > 1 ? fmt::format(" in {} groups side by side", groups) : "");
}

YAML::Node load_yaml(const std::string& filename) { return YAML::Clone(ConfigNode::load_file(filename).yaml()); }

// The configuration as text, without what a resume may change: training.n_batches and the last phase's
// n_batches (a resumed run may be extended), and the provenance the run records itself.
std::string comparable(const YAML::Node& config) {
  auto copy = YAML::Clone(config);
  if (copy["training"] && copy["training"].IsMap()) copy["training"].remove("n_batches");
  if (copy["phases"] && copy["phases"].IsSequence() && copy["phases"].size() > 0) {
    YAML::Node last = copy["phases"][copy["phases"].size() - 1];
    if (last.IsMap()) last.remove("n_batches");
  }
  copy.remove("provenance");
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
    require(options.init_from().empty(), "init_from", "a resumed run continues from its own checkpoint, not another run's");
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
  if (!options.init_from().empty()) config["init_from"] = options.init_from();
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

nlohmann::json provenance_json(const YAML::Node& provenance) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& entry : provenance) {
    nlohmann::json item;
    for (const auto& field : entry) item[field.first.as<std::string>()] = field.second.as<std::string>();
    entries.push_back(item);
  }
  return entries;
}

// Everything one phase trains with.
struct PhasePlan {
  TrainingPhase phase;
  Experiment experiment;
  std::vector<PolicySource> init_sources;  // one per replicate when the phase starts from another run's policy
};

YAML::Node provenance_entry(const TrainingPhase& phase, const PolicySource& source) {
  YAML::Node entry;
  entry["phase"] = phase.name;
  entry["init_from"] = phase.init_from;
  entry["policy_file"] = source.policy_file;
  entry["config_file"] = source.config_file;
  entry["config_sha256"] = source.config_sha256;
  return entry;
}

// Builds every phase's experiment (so that a bad phase is an error before anything trains) and resolves and
// checks the init_from sources of the phases still to start (`first_to_start` on): their shape is checked by
// loading them, the first phase's straight into the networks to train. `provenance` gets one entry per warm start;
// on resume, those of phases that already started come from the saved configuration, and a source whose
// configuration changed since is an error.
std::vector<PhasePlan> plan_phases(const YAML::Node& config, const std::vector<TrainingPhase>& phases,
                                   size_t first_to_start, const YAML::Node& saved_provenance, YAML::Node& provenance) {
  std::vector<PhasePlan> plans;
  for (size_t i = 0; i < phases.size(); ++i) {
    PhasePlan plan{phases[i], experiment_from_config(ConfigNode(phase_configuration(config, phases[i]), "")), {}};
    if (i > 0) {
      const int64_t before = plans.front().experiment.environment->observation_size();
      const int64_t now = plan.experiment.environment->observation_size();
      require(now == before, fmt::format("phases[{}].set", i),
              fmt::format("changes the observation size from {} to {}: the network of phase '{}' cannot take it", before,
                          now, phases.front().name));
    }
    const auto& init_from = phases[i].init_from;
    std::optional<YAML::Node> saved;
    if (saved_provenance && saved_provenance.IsSequence())
      for (size_t e = 0; e < saved_provenance.size(); ++e) {
        const YAML::Node entry = saved_provenance[e];
        if (entry["phase"] && entry["phase"].as<std::string>() == phases[i].name) saved = entry;
      }
    if (!init_from.empty() && i < first_to_start) {
      if (saved) provenance.push_back(*saved);
    } else if (!init_from.empty()) {
      const auto& networks = i == 0 ? plan.experiment.replicates : plans.front().experiment.replicates;
      const int64_t K = static_cast<int64_t>(networks.size());
      for (int64_t k = 0; k < K; ++k) {
        plan.init_sources.push_back(resolve_policy_source(init_from, k, K));
        // The first phase's networks are the ones trained: loading them is the warm start. A later phase's source is
        // loaded into that phase's own (unused) networks now, as a check, and into the trained ones when it starts.
        load_policy_file(*plan.experiment.replicates[k], plan.init_sources.back().policy_file);
      }
      const auto& source = plan.init_sources.front();
      if (saved && (*saved)["config_sha256"] && (*saved)["config_sha256"].as<std::string>() != source.config_sha256)
        throw InputError(init_from, fmt::format("the configuration of this init_from source ({}) changed since the run "
                                                "started (SHA-256 {} then, {} now); nothing was changed",
                                                source.config_file, (*saved)["config_sha256"].as<std::string>(),
                                                source.config_sha256));
      provenance.push_back(provenance_entry(phases[i], source));
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

// Per phase of one replicate's metrics.csv: batches done, the mean loss of its last (up to) 100 batches and its
// last validation loss.
nlohmann::json phase_reports(const std::vector<TrainingPhase>& phases, const MetricsLog& metrics) {
  nlohmann::json reports = nlohmann::json::array();
  const auto rows = metrics.logged_batches();
  for (const auto& phase : phases) {
    std::vector<double> losses;
    std::optional<double> validation;
    for (const auto& row : rows)
      if (row.batch > phase.first_batch && row.batch <= phase.end_batch()) {
        losses.push_back(row.loss);
        if (row.validation_loss) validation = row.validation_loss;
      }
    if (losses.empty()) break;  // not started
    double sum = 0.0;
    const size_t recent = std::min<size_t>(100, losses.size());
    for (size_t i = losses.size() - recent; i < losses.size(); ++i) sum += losses[i];
    nlohmann::json report = {{"name", phase.name},
                             {"first_batch", phase.first_batch + 1},
                             {"last_batch", phase.first_batch + static_cast<int64_t>(losses.size())},
                             {"batches", losses.size()},
                             {"planned_batches", phase.n_batches},
                             {"mean_loss_last_100_batches", sum / recent}};
    report["last_validation_loss"] = validation ? nlohmann::json(*validation) : nlohmann::json(nullptr);
    reports.push_back(report);
  }
  return reports;
}

// Per replicate: summary.json, the evaluation and the loss figure (every replicate is evaluated on the same
// evaluation set, drawn from the configured seed); with replicates, a summary.json of their means on top.
void write_summaries(const YAML::Node& config, const PhasePlan& last, Trainer& trainer, const TrainingSummary& summary,
                     const fs::path& run_directory, const std::vector<TrainingPhase>& phases,
                     const YAML::Node& provenance, const std::vector<std::string>& logged_terms) {
  const auto& experiment = last.experiment;
  // The evaluation: the configured conditions (on the base configuration), else the last phase's settings.
  const auto settings = evaluation_settings_from_config(config);
  const YAML::Node evaluated = settings.conditions.empty() ? phase_configuration(config, last.phase) : config;
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
    report["phases"] = phase_reports(phases, MetricsLog(directory.string(), logged_terms));
    if (provenance && provenance.size() > 0) report["init_from"] = provenance_json(provenance);
    if (!validation.empty()) {
      report["validation_loss"] = validation[k].total.item<double>();
      for (const auto& [name, value] : validation[k].terms) report["validation_" + name] = value.item<double>();
      report["evaluation"] = evaluate_and_write(evaluated, settings.conditions, *trainer.replicate_policy(k),
                                                settings.batch_size, (directory / "eval").string());
      plot_loss_curve((directory / "metrics.csv").string(), (directory / "loss").string());
    }
    write_text_atomically((directory / "summary.json").string(), report.dump(2) + "\n");
    replicates.push_back(report);
  }
  if (K > 1) {
    nlohmann::json report = {{"batches", summary.batches_done},     {"seconds_this_run", summary.seconds},
                             {"replicates", K},                     {"outcome", outcome},
                             {"message", summary.message},          {"mean_loss_last_100_batches", summary.mean_recent_loss},
                             {"replicate_summaries", replicates}};
    if (provenance && provenance.size() > 0) report["init_from"] = provenance_json(provenance);
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

void check_before_launch(const TrainingRunOptions& options, int64_t processes) {
  const auto [config, directory] = configuration_and_directory(options, /*rank0=*/true);
  for (const auto& phase : phases_from_config(config)) {
    const YAML::Node phase_config = phase_configuration(config, phase);
    const auto experiment = experiment_from_config(ConfigNode(phase_config, ""));
    const int64_t batch = experiment.training.batch_size();
    const std::string where = config["phases"] ? fmt::format("phase '{}': training.batch_size", phase.name)
                                               : "training.batch_size";
    require(batch % processes == 0, where,
            fmt::format("{} trials cannot be split evenly across {} processes; use a multiple of {}", batch,
                        processes, processes));
  }
}

TrainingRunResult run_training(const TrainingRunOptions& options) {
  const auto& group = options.data_parallel();
  const bool rank0 = !group || group->rank() == 0;
  const bool resuming = !options.resume_directory().empty();
  auto [config, run_directory] = configuration_and_directory(options, rank0);
  if (group) group->require_same("configuration", comparable(config) + "|" + run_directory.string());

  const auto phases = phases_from_config(config);
  // The evaluation conditions are checked now, so that a bad one stops the run before it trains.
  for (const auto& condition : evaluation_settings_from_config(config).conditions)
    experiment_from_config(ConfigNode(condition_configuration(config, condition), ""));
  // One writer per run directory, for the whole run. A resume takes the lock before it reads anything of the run
  // (the first writer may not have written its first checkpoint yet); a new run, once its configuration checks.
  std::optional<DirectoryLock> lock;
  if (rank0 && resuming) lock.emplace(run_directory.string());
  // A resumed run continues the phase its checkpoint is in (or has just finished).
  size_t first_phase = 0;
  YAML::Node saved_provenance;
  if (resuming) {
    const int64_t K = config["training"] && config["training"]["replicates"] ? config["training"]["replicates"].as<int64_t>() : 1;
    const fs::path checkpoint =
        K > 1 ? run_directory / "replicate_00" / "checkpoint.pt" : run_directory / "checkpoint.pt";
    first_phase = phase_at(phases, read_checkpoint_batch(checkpoint.string()));
    saved_provenance = YAML::Clone(load_yaml((run_directory / "config.yaml").string())["provenance"]);
  }
  YAML::Node provenance(YAML::NodeType::Sequence);
  auto plans = plan_phases(config, phases, resuming ? first_phase + 1 : 0, saved_provenance, provenance);
  const std::vector<Policy> networks = plans.front().experiment.replicates;
  std::vector<std::string> logged_terms;  // every phase's loss terms, in order of appearance
  for (const auto& plan : plans)
    for (const auto& term : plan.experiment.losses.terms())
      if (std::find(logged_terms.begin(), logged_terms.end(), term.name) == logged_terms.end())
        logged_terms.push_back(term.name);

  const std::string configuration_sha256 = sha256_hex(comparable(config));
  YAML::Node recorded = YAML::Clone(config);
  recorded.remove("provenance");
  if (provenance.size() > 0) recorded["provenance"] = provenance;
  YAML::Emitter emitter;
  emitter << recorded;
  const std::string config_text = emitter.c_str();
  if (rank0) {
    std::error_code error;
    fs::create_directories(run_directory, error);
    require(!error && fs::is_directory(run_directory), run_directory.string(),
            "cannot create the run directory: " + (error ? error.message() : std::string("not a directory")));
    if (!lock) lock.emplace(run_directory.string());  // a second writer is refused before it changes anything
    write_text_atomically((run_directory / "config.yaml").string(), config_text + "\n");
  }

  std::unique_ptr<Trainer> trainer;
  size_t trained_phase = first_phase;
  TrainingRunResult result{run_directory.string(), {}};
  double seconds = 0.0;
  for (size_t p = first_phase; p < plans.size(); ++p) {
    auto& plan = plans[p];
    const bool resumes_here = resuming && p == first_phase;
    if (!resumes_here && p > 0 && !plan.init_sources.empty())
      for (size_t k = 0; k < networks.size(); ++k) load_policy_file(*networks[k], plan.init_sources[k].policy_file);
    auto training = plan.experiment.training;
    training.quiet(options.quiet()).data_parallel(group).stop(options.stop()).configuration_sha256(configuration_sha256);
    training.phase(PhasePlacement()
                       .name(plan.phase.name)
                       .first_batch(plan.phase.first_batch)
                       .logged_terms(logged_terms)
                       .followed(p + 1 < plans.size()));
    auto next = std::make_unique<Trainer>(plan.experiment.environment, networks, plan.experiment.losses,
                                          plan.experiment.optimizer, training, run_directory.string());
    if (resumes_here) {
      next->resume();
    } else if (trainer) {
      next->continue_from(*trainer, !plan.phase.reset_optimizer && plan.init_sources.empty());
    }
    trainer = std::move(next);
    trained_phase = p;
    if (rank0)
      std::cerr << fmt::format("motornet-train: {} -> {} ({}{} batches of {}{}{}, starting at batch {})\n",
                               options.config_file().empty() ? run_directory.string() : options.config_file(),
                               run_directory.string(),
                               phases.size() > 1 ? fmt::format("phase '{}': batches {}-{} of ", plan.phase.name,
                                                               plan.phase.first_batch + 1, plan.phase.end_batch())
                                                 : "",
                               phases.back().end_batch(), training.batch_size(),
                               trainer->n_replicates() > 1 ? replicates_phrase(*trainer) : "",
                               group ? fmt::format(", {} processes", group->world_size()) : "", trainer->batches_done());
    result.summary = trainer->train();
    seconds += result.summary.seconds;
    if (result.summary.outcome != TrainingOutcome::kCompleted) break;
  }
  result.summary.seconds = seconds;
  if (rank0) {
    write_summaries(config, plans[trained_phase], *trainer, result.summary, run_directory, phases, provenance,
                    logged_terms);
  }
  return result;
}

}  // namespace motornet
