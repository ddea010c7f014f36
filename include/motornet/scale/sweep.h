#pragma once
// Parameter sweeps: the cartesian product of `--grid key.path=v1,v2,...` axes over one experiment file, each
// combination a separate motornet-train run in its own directory, and a summary table (CSV and Markdown) of
// their final losses and evaluation metrics.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace motornet {

struct SweepAxis {
  std::string key;                  // a configuration key path, as for --set
  std::vector<std::string> values;  // YAML scalars or flow collections ([1, 2], {a: 1})
};

// One combination: key=value assignments, in axis order.
using SweepPoint = std::vector<std::pair<std::string, std::string>>;

// Parses "key.path=v1,v2,..." (commas inside [...] or {...} belong to the value); InputError naming --grid.
SweepAxis parse_sweep_axis(const std::string& text);
// Every combination, the last axis varying fastest; InputError for a key given twice.
std::vector<SweepPoint> sweep_points(const std::vector<SweepAxis>& axes);
// The run directory name of combination `index`: "003_optimizer.lr=0.01_seed=2"; a list or map value keeps its
// items readable ("optimizer.betas=0.9,0.999", "fields=type-curl,strength-15"), other unsafe characters are '-'.
std::string sweep_run_name(size_t index, const SweepPoint& point);
// The configuration of one combination: `base` with the point's assignments applied (InputError naming the
// key and the combination for a bad one).
YAML::Node sweep_configuration(const YAML::Node& base, const SweepPoint& point);

// What one run left in its directory.
struct SweepResult {
  std::string name;
  SweepPoint point;
  int exit_status = 0;
  std::string outcome;  // completed, interrupted, diverged, failed (no summary), skipped (done before)
  std::optional<double> batches, seconds, final_loss, validation_loss, evaluation_loss, endpoint_error;
};
// Reads run_directory/summary.json (the mean over replicates for a replicate run).
SweepResult read_sweep_result(const std::string& run_directory);
// Writes summary.csv and summary.md into `directory`.
void write_sweep_summary(const std::string& directory, const std::vector<SweepAxis>& axes,
                         const std::vector<SweepResult>& results);

}  // namespace motornet
