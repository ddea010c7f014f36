#include "motornet/train/evaluation_conditions.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <regex>
#include <set>

#include "motornet/core/config.h"
#include "motornet/core/error.h"
#include "motornet/core/plain_name.h"
#include "motornet/io/atomic_file.h"
#include "motornet/io/figures.h"
#include "motornet/train/phases.h"
#include "motornet/train/warm_start.h"
#include "train/configuration_settings.h"

namespace motornet {

namespace fs = std::filesystem;

namespace {


// A finite number for the CSV, or an empty cell.
std::string cell(const nlohmann::json& value) {
  if (value.is_number()) return fmt::format("{:.8g}", value.get<double>());
  return "";
}

}  // namespace

EvaluationSettings evaluation_settings_from_config(const YAML::Node& config) {
  EvaluationSettings settings;
  const ConfigNode root(config, "");
  auto block = root.child("evaluation");
  if (!block) return settings;
  block->require_map();
  block->check_keys({"batch_size", "conditions"});
  if (auto batch = block->child("batch_size")) {
    settings.batch_size = batch->as_int();
    if (settings.batch_size < 0) batch->fail(fmt::format("must be 0 (the task's evaluation set) or more, got {}", settings.batch_size));
  }
  auto list = block->child("conditions");
  if (!list) return settings;
  if (!list->is_sequence() || list->size() == 0) list->fail("expected a non-empty list of conditions");
  std::set<std::string> names;
  for (size_t i = 0; i < list->size(); ++i) {
    const ConfigNode entry = list->at(i);
    entry.require_map();
    entry.check_keys({"name", "set"});
    EvaluationCondition condition;
    condition.name = entry.at("name").as_string();
    if (!is_plain_name(condition.name))
      entry.at("name").fail(fmt::format("'{}' is not a condition name: use letters, digits, '_', '-' or '.'", condition.name));
    if (!names.insert(condition.name).second)
      entry.at("name").fail(fmt::format("a condition named '{}' comes earlier", condition.name));
    condition.set = read_settings(entry, [](const std::string& key, const YAML::Node&, const std::string& where) {
      const std::string block_name = key.substr(0, key.find('.'));
      if (block_name != "environment" && block_name != "losses")
        throw InputError(where, fmt::format("a condition cannot change '{}': it evaluates the trained network, so only "
                                            "environment and losses may change",
                                            block_name));
    });
    settings.conditions.push_back(condition);
  }
  return settings;
}

std::vector<EvaluationCondition> select_conditions(const EvaluationSettings& settings,
                                                   const std::vector<std::string>& names) {
  if (names.empty()) return settings.conditions;
  std::vector<std::string> known;
  for (const auto& condition : settings.conditions) known.push_back(condition.name);
  std::vector<EvaluationCondition> selected;
  for (const auto& name : names) {
    auto it = std::find_if(settings.conditions.begin(), settings.conditions.end(),
                           [&](const EvaluationCondition& c) { return c.name == name; });
    if (it == settings.conditions.end())
      throw InputError("--condition", known.empty() ? fmt::format("'{}': the run's configuration defines no evaluation "
                                                                  "conditions (evaluation.conditions)",
                                                                  name)
                                                    : fmt::format("unknown condition '{}'; the run defines: {}", name,
                                                                  fmt::join(known, ", ")));
    selected.push_back(*it);
  }
  return selected;
}

YAML::Node condition_configuration(const YAML::Node& config, const EvaluationCondition& condition) {
  return base_configuration_with(config, condition.set, fmt::format("evaluation condition '{}'", condition.name));
}

ConditionEvaluation evaluate_condition(const YAML::Node& config, const EvaluationCondition* condition, PolicyImpl& policy,
                                       int64_t batch_size) {
  YAML::Node resolved = condition ? condition_configuration(config, *condition) : YAML::Clone(config);
  ConditionEvaluation evaluation{{}, experiment_from_config(ConfigNode(resolved, "")), ""};
  const int64_t observed = evaluation.experiment.environment->observation_size();
  require(observed == policy.input_size(), condition ? "evaluation condition " + condition->name : "evaluation",
          fmt::format("observes {} inputs but the trained policy takes {}", observed, policy.input_size()));
  YAML::Emitter emitter;
  emitter << resolved;
  evaluation.config_text = emitter.c_str();
  evaluation.experiment.environment->seed(evaluation.experiment.seed);
  evaluation.result = evaluate(*evaluation.experiment.environment, policy, evaluation.experiment.losses, batch_size);
  return evaluation;
}

nlohmann::json evaluate_and_write(const YAML::Node& config, const std::vector<EvaluationCondition>& conditions,
                                  PolicyImpl& policy, int64_t batch_size, const std::string& directory) {
  if (conditions.empty()) {
    auto evaluation = evaluate_condition(config, nullptr, policy, batch_size);
    write_evaluation(directory, evaluation.result, *evaluation.experiment.environment, evaluation.config_text);
    return to_json(evaluation.result);
  }
  nlohmann::json reports = nlohmann::json::object();
  for (const auto& condition : conditions) {
    auto evaluation = evaluate_condition(config, &condition, policy, batch_size);
    write_evaluation((fs::path(directory) / condition.name).string(), evaluation.result,
                     *evaluation.experiment.environment, evaluation.config_text);
    reports[condition.name] = to_json(evaluation.result);
  }
  return reports;
}

void evaluate_snapshots(const YAML::Node& config, const std::string& run_directory,
                        const std::vector<EvaluationCondition>& conditions, int64_t batch_size,
                        const std::string& out_directory) {
  const fs::path snapshots = fs::path(run_directory) / "snapshots";
  std::vector<std::pair<int64_t, fs::path>> files;
  static const std::regex pattern(R"(batch_(\d+)\.pt)");
  if (fs::is_directory(snapshots))
    for (const auto& entry : fs::directory_iterator(snapshots)) {
      std::smatch match;
      const std::string name = entry.path().filename().string();
      if (std::regex_match(name, match, pattern)) files.push_back({std::stoll(match[1]), entry.path()});
    }
  require(!files.empty(), snapshots.string(), "holds no snapshots: train with training.snapshot_every > 0");
  std::sort(files.begin(), files.end());
  const auto phases = phases_from_config(config);
  std::vector<const EvaluationCondition*> which;
  for (const auto& condition : conditions) which.push_back(&condition);
  if (which.empty()) which.push_back(nullptr);

  // A network of the run's architecture to load each snapshot into.
  const EvaluationCondition base{"base", YAML::Node(YAML::NodeType::Map)};
  auto experiment = experiment_from_config(ConfigNode(condition_configuration(config, base), ""));
  std::string csv =
      "batch,phase,condition,loss,mean_endpoint_error_m,mean_lateral_deviation_m,mean_abs_lateral_deviation_m,"
      "mean_reaction_time_s,mean_peak_speed_m_per_s,catch_mean_drift_m,channel_mean_peak_force_N,"
      "channel_mean_lateral_push_N,channel_mean_push_per_speed_Ns_per_m\n";
  std::vector<Curve> curves(which.size());
  for (size_t c = 0; c < which.size(); ++c) curves[c].name = which[c] ? which[c]->name : "evaluation";
  for (const auto& [batch, file] : files) {
    load_policy_file(*experiment.policy, file.string());
    for (size_t c = 0; c < which.size(); ++c) {
      const auto summary = to_json(evaluate_condition(config, which[c], *experiment.policy, batch_size).result);
      nlohmann::json channel_force, channel_push, channel_slope;
      if (summary.contains("channels") && !summary["channels"].empty()) {
        channel_force = summary["channels"].begin().value()["mean_peak_force_N"];
        channel_push = summary["channels"].begin().value()["mean_lateral_push_N"];
        channel_slope = summary["channels"].begin().value()["mean_push_per_speed_Ns_per_m"];
      }
      csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}\n", batch, phases[phase_at(phases, batch)].name,
                         curves[c].name, cell(summary["loss"]), cell(summary["mean_endpoint_error_m"]),
                         cell(summary["mean_lateral_deviation_m"]), cell(summary["mean_abs_lateral_deviation_m"]),
                         cell(summary["mean_reaction_time_s"]), cell(summary["mean_peak_speed_m_per_s"]),
                         summary.contains("catch") ? cell(summary["catch"]["mean_drift_m"]) : "", cell(channel_force),
                         cell(channel_push), cell(channel_slope));
      if (summary["mean_lateral_deviation_m"].is_number()) {  // conditions without plain reaches have none
        curves[c].x.push_back(static_cast<double>(batch));
        curves[c].y.push_back(summary["mean_lateral_deviation_m"].get<double>() * 1000.0);
      }
    }
  }
  std::error_code error;
  fs::create_directories(out_directory, error);
  require(!error, out_directory, "cannot create the directory: " + error.message());
  write_text_atomically((fs::path(out_directory) / "snapshots.csv").string(), csv);
  curves.erase(std::remove_if(curves.begin(), curves.end(), [](const Curve& c) { return c.x.empty(); }), curves.end());
  if (curves.empty()) return;  // no condition has plain reaches to trace
  plot_curves(curves, "batch", "mean lateral deviation (mm, + left)", "Lateral deviation over training",
              (fs::path(out_directory) / "snapshots").string());
}

}  // namespace motornet
