#include "motornet/scale/sweep.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "motornet/core/config.h"
#include "motornet/core/error.h"
#include "motornet/io/atomic_file.h"

namespace motornet {

namespace fs = std::filesystem;

SweepAxis parse_sweep_axis(const std::string& text) {
  const auto equals = text.find('=');
  require(equals != std::string::npos && equals > 0, "--grid",
          fmt::format("expected key.path=v1,v2,... , got '{}'", text));
  SweepAxis axis;
  axis.key = text.substr(0, equals);
  std::string current;
  int depth = 0;
  for (char c : text.substr(equals + 1)) {
    if (c == '[' || c == '{') ++depth;
    if (c == ']' || c == '}') --depth;
    if (c == ',' && depth == 0) {
      axis.values.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  axis.values.push_back(current);
  for (const auto& value : axis.values)
    require(!value.empty(), "--grid", fmt::format("'{}' has an empty value (two commas in a row?)", text));
  require(depth == 0, "--grid", fmt::format("'{}' has an unbalanced bracket", text));
  return axis;
}

std::vector<SweepPoint> sweep_points(const std::vector<SweepAxis>& axes) {
  std::set<std::string> keys;
  for (const auto& axis : axes)
    require(keys.insert(axis.key).second, "--grid", fmt::format("the key '{}' is swept twice; give one --grid per key", axis.key));
  std::vector<SweepPoint> points{{}};
  for (const auto& axis : axes) {
    std::vector<SweepPoint> next;
    for (const auto& point : points)
      for (const auto& value : axis.values) {
        auto extended = point;
        extended.emplace_back(axis.key, value);
        next.push_back(std::move(extended));
      }
    points = std::move(next);
  }
  return points;
}

namespace {
// A grid value as a directory-name part: a flow list or map loses its brackets and spaces and keeps its commas,
// a key's colon becomes '-' ("[0.9, 0.999]" -> "0.9,0.999"; "[{type: curl, strength: 15}]" ->
// "type-curl,strength-15"); any other unsafe character becomes one '-'.
std::string readable_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '[' || c == ']' || c == '{' || c == '}' || c == ' ' || c == '"' || c == '\'') continue;
    const bool safe = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ',' || c == '_' || c == '-' ||
                      c == '+';
    if (safe) {
      out += c;  // a value's own '-' (a sign) is kept
    } else if (out.empty() || out.back() != '-') {
      out += '-';
    }
  }
  return out;
}
}  // namespace

std::string sweep_run_name(size_t index, const SweepPoint& point) {
  std::string name = fmt::format("{:03}", index);
  for (const auto& [key, value] : point) name += "_" + key + "=" + readable_value(value);
  for (char& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '=' || c == '_' || c == '-' || c == ',' ||
          c == '+'))
      c = '-';
  return name.size() > 200 ? name.substr(0, 200) : name;  // the index prefix keeps cut names apart
}

YAML::Node sweep_configuration(const YAML::Node& base, const SweepPoint& point) {
  YAML::Node config = YAML::Clone(base);
  for (const auto& [key, value] : point) apply_override(config, key + "=" + value, "--grid");
  return config;
}

namespace {
std::optional<double> number(const nlohmann::json& object, const char* key) {
  if (object.contains(key) && object[key].is_number()) return object[key].get<double>();
  return std::nullopt;
}
}  // namespace

SweepResult read_sweep_result(const std::string& run_directory) {
  SweepResult result;
  result.name = fs::path(run_directory).filename().string();
  std::ifstream in(fs::path(run_directory) / "summary.json");
  if (!in) {
    result.outcome = "failed";
    return result;
  }
  nlohmann::json summary;
  try {
    in >> summary;
  } catch (const std::exception&) {
    result.outcome = "failed";
    return result;
  }
  result.outcome = summary.value("outcome", std::string("failed"));
  result.batches = number(summary, "batches");
  result.seconds = number(summary, "seconds_this_run");
  result.final_loss = number(summary, "mean_loss_last_100_batches");
  result.validation_loss = summary.contains("mean_validation_loss") ? number(summary, "mean_validation_loss")
                                                                     : number(summary, "validation_loss");
  // A replicate run: the evaluation metrics averaged over its replicates.
  std::vector<nlohmann::json> evaluations;
  if (summary.contains("replicate_summaries")) {
    for (const auto& replicate : summary["replicate_summaries"])
      if (replicate.contains("evaluation")) evaluations.push_back(replicate["evaluation"]);
  } else if (summary.contains("evaluation")) {
    evaluations.push_back(summary["evaluation"]);
  }
  if (!evaluations.empty()) {
    double loss = 0.0, error = 0.0;
    for (const auto& entry : evaluations) {
      // With evaluation conditions, summary.json's evaluation holds one entry per condition: the first counts.
      const auto& evaluation = entry.contains("loss") || entry.empty() ? entry : entry.begin().value();
      auto value = [&](const char* key) {
        return evaluation.contains(key) && evaluation[key].is_number() ? evaluation[key].get<double>() : 0.0;
      };
      loss += value("loss") / evaluations.size();
      error += value("mean_endpoint_error_m") / evaluations.size();
    }
    result.evaluation_loss = loss;
    result.endpoint_error = error;
  }
  return result;
}

void write_sweep_summary(const std::string& directory, const std::vector<SweepAxis>& axes,
                         const std::vector<SweepResult>& results) {
  std::vector<std::string> header = {"run"};
  for (const auto& axis : axes) header.push_back(axis.key);
  for (const char* column : {"outcome", "exit_status", "batches", "seconds", "final_loss", "validation_loss",
                             "evaluation_loss", "endpoint_error_m"})
    header.push_back(column);
  auto cell = [](const std::optional<double>& value) { return value ? fmt::format("{:.6g}", *value) : std::string(); };
  std::string csv = fmt::format("{}\n", fmt::join(header, ","));
  std::string markdown = fmt::format("| {} |\n|{}\n", fmt::join(header, " | "), [&] {
    std::string rule;
    for (size_t i = 0; i < header.size(); ++i) rule += "---|";
    return rule;
  }());
  for (const auto& result : results) {
    std::vector<std::string> row = {result.name};
    for (const auto& [key, value] : result.point) row.push_back(value);
    row.insert(row.end(), {result.outcome, std::to_string(result.exit_status), cell(result.batches),
                           cell(result.seconds), cell(result.final_loss), cell(result.validation_loss),
                           cell(result.evaluation_loss), cell(result.endpoint_error)});
    std::vector<std::string> quoted;
    for (const auto& value : row)
      quoted.push_back(value.find_first_of(",\"") == std::string::npos ? value : "\"" + value + "\"");
    csv += fmt::format("{}\n", fmt::join(quoted, ","));
    markdown += fmt::format("| {} |\n", fmt::join(row, " | "));
  }
  write_text_atomically((fs::path(directory) / "summary.csv").string(), csv);
  write_text_atomically((fs::path(directory) / "summary.md").string(), markdown);
}

}  // namespace motornet
