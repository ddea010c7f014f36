#pragma once
// The least memory a training run needs, estimated from its configuration before anything large is created, so
// that an oversized batch, network, replicate count or episode is refused at once (exit 2, naming the key)
// instead of ending in an allocator's stack trace, bad_alloc or a machine that swaps to a halt. The estimate is
// a lower bound: the policy's parameters with their gradients and the optimizer's two moments, and what one
// training batch keeps for backpropagation and one validation batch records (per trial and step: the network's
// gate activations, the observation, the action and the body's states). Real use is a few times higher.

#include <cstdint>
#include <string>

#include "motornet/core/config.h"
#include "motornet/env/environment.h"

namespace motornet {

struct MemoryNeed {
  double parameter_bytes = 0.0;   // every replicate's parameters, gradients and optimizer moments
  double training_bytes = 0.0;    // one training batch's rollout, every replicate
  double validation_bytes = 0.0;  // one validation batch's rollout, every replicate
  double total() const { return parameter_bytes + training_bytes + validation_bytes; }
};

// From the experiment's `policy` and `training` blocks (their defaults where absent) and its environment.
MemoryNeed estimate_memory_need(const ConfigNode& root, const EnvironmentImpl& environment);

// Bytes this process may still allocate: the system's available memory, or the address-space limit if lower;
// negative when neither can be read (then nothing is checked).
double available_memory_bytes();

// An InputError naming the key that makes the run too large for `available_bytes`.
void check_memory_need(const ConfigNode& root, const EnvironmentImpl& environment,
                       double available_bytes = available_memory_bytes());

}  // namespace motornet
