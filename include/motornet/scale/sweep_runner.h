#pragma once
// Runs a sweep (sweep.h): every combination of the grid a separate `motornet-train` process in
// directory/<name>/ (its log in directory/<name>.log), `jobs` at a time, then directory/summary.csv and
// summary.md. Every combination is checked before anything starts. Running the same sweep again skips finished
// runs and resumes interrupted ones; a run that failed before its first checkpoint starts again.

#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>
#include <vector>

#include "motornet/core/stop_token.h"
#include "motornet/scale/sweep.h"

namespace motornet {

struct SweepRunOptions {
  std::string config_file;               // the experiment file every run starts from
  std::vector<std::string> overrides;    // key.path=value for every run
  std::vector<SweepAxis> axes;
  std::string directory;                 // the sweep directory (created)
  int jobs = 1;                          // runs at a time
  int threads = 1;                       // LibTorch threads per run (OMP_NUM_THREADS)
  std::string trainer_program;           // the motornet-train executable
  // Throws InputError for a configuration that cannot train (the sweep names the combination); none: no check.
  std::function<void(const YAML::Node& configuration)> check_configuration;
  StopToken stop;                        // no new runs start; running ones finish
};

struct SweepRun {
  std::vector<SweepResult> results;  // one per combination, in grid order ("not started" after a stop)
  bool stopped = false;
};

SweepRun run_sweep(const SweepRunOptions& options);

}  // namespace motornet
