#pragma once
// checkpoint.pt: everything one trained network needs to continue exactly where it stopped: the policy's
// parameters and buffers, the optimizer's state, the two random streams (trials, hidden noise), the batch count
// and the training time so far. Written atomically, so a crash mid-write leaves the previous checkpoint.

#include <torch/torch.h>

#include <string>

#include "motornet/control/policy.h"

namespace motornet {

// What a checkpoint saves and restores: handles sharing the trainer's own objects (a Policy holder and a
// torch::Generator copy share their module and state), so restoring through them restores the trainer.
struct CheckpointParts {
  Policy policy;
  torch::optim::Optimizer* optimizer = nullptr;
  torch::Generator trial_generator;
  torch::Generator noise_generator;
};

// Where training stood.
struct CheckpointPosition {
  int64_t batch = 0;
  double elapsed = 0.0;  // s
  // SHA-256 of the configuration that wrote it ("" in checkpoints that predate it): a resume refuses another's.
  std::string configuration_sha256;
};

void write_checkpoint(const std::string& path, const CheckpointParts& parts, CheckpointPosition position);
// Restores `parts` from `path`; an absent, corrupt or mismatched file (another policy shape) is an InputError
// naming it.
CheckpointPosition read_checkpoint(const std::string& path, CheckpointParts parts);
// The batch a checkpoint was written at, without restoring anything (which phase a resumed run is in).
int64_t read_checkpoint_batch(const std::string& path);

}  // namespace motornet
