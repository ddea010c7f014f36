#pragma once
// One whole training run, as `motornet-train` does it: read the experiment file (with --set overrides), make or
// reopen the run directory, train, and leave in it config.yaml (the resolved configuration), metrics.csv,
// checkpoint.pt, policy.pt (TorchScript), summary.json and the evaluation (eval/) and loss figure; with
// training.replicates K > 1, each replicate's files in replicate_kk/ and a summary.json of their means.
// A run may go through several phases (train/phases.h) and start from another run's policy (init_from,
// train/warm_start.h); snapshots of the policy go to snapshots/. Resuming continues a run exactly, mid-phase too;
// only training.n_batches (or the last phase's n_batches) may change, to extend it.

#include <memory>
#include <string>
#include <vector>

#include "motornet/core/stop_token.h"
#include "motornet/scale/distributed.h"
#include "motornet/train/trainer.h"

namespace motornet {

struct TrainingRunOptions {
  TORCH_ARG(std::string, config_file);                // the experiment file ("" when resuming: the saved one)
  TORCH_ARG(std::vector<std::string>, overrides);     // key.path=value, applied in order
  TORCH_ARG(std::string, run_directory);              // "" = timestamped_run_directory(config_file)
  TORCH_ARG(std::string, resume_directory);           // continue the run in this directory
  TORCH_ARG(std::string, init_from);                  // sets the configuration's init_from (train/warm_start.h)
  TORCH_ARG(bool, quiet) = false;                     // no progress output
  TORCH_ARG(std::shared_ptr<DataParallelGroup>, data_parallel) = nullptr;
  TORCH_ARG(StopToken, stop) = StopToken();           // ends the run after the current batch, checkpoint written
};

struct TrainingRunResult {
  std::string run_directory;
  TrainingSummary summary;
};

// InputError (nothing overwritten) for a bad or missing configuration, a run directory that already holds a run
// (without resume), or a resume whose configuration differs from the saved one in more than n_batches.
TrainingRunResult run_training(const TrainingRunOptions& options);

// The configuration a run directory was trained with: RUN/config.yaml, or for a replicate's directory
// (RUN/replicate_kk) its run's. An InputError naming the file when there is none.
std::string saved_configuration_file(const std::string& run_directory);

// runs/<config name><label>-<date>-<time>: a new directory for every run started without one.
std::string timestamped_run_directory(const std::string& config_file, const std::string& label = "");

}  // namespace motornet
