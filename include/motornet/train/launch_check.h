#pragma once
// What `motornet-train --nproc N` checks before it starts a worker: the configuration the workers will train
// (the file with its --set overrides, or the resumed run's), every key of it and of each phase, the run
// directory, and that every phase's batch splits evenly across the N processes. An error is reported once, by
// the launcher, instead of N times after the workers have started.

#include <cstdint>

#include "motornet/train/training_run.h"

namespace motornet {

void check_before_launch(const TrainingRunOptions& options, int64_t processes);

}  // namespace motornet
