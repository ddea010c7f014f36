#pragma once
// Warm starts (init_from): a run, or a phase of one, starting from a network another run trained. The source
// may be a run directory, a replicate's directory, a snapshot (snapshots/batch_000800.pt), a policy.pt
// (TorchScript) or a checkpoint.pt; the configuration it was trained with is found beside it, and its SHA-256
// goes into the new run's provenance, so that a result can be traced to the exact run it grew from.

#include <cstdint>
#include <string>

#include "motornet/control/policy.h"

namespace motornet {

struct PolicySource {
  std::string policy_file;    // the file the weights are read from
  std::string config_file;    // the source run's config.yaml ("" when there is none beside a bare policy file)
  std::string config_sha256;  // its SHA-256 ("" without one)
};

// Replicate `replicate` of a run of `n_replicates`: from a run of replicates, its own replicate's network (the
// counts must agree); from a single network, every replicate starts from that one. InputError naming `path`
// when it is not there or holds no policy.
PolicySource resolve_policy_source(const std::string& path, int64_t replicate = 0, int64_t n_replicates = 1);

// Copies the weights of `file` (a TorchScript policy, or a trainer checkpoint) into `policy`. InputError naming
// the file when it is neither, or when a parameter is missing or has another shape (saying which shape this
// configuration expects).
void load_policy_file(PolicyImpl& policy, const std::string& file);

}  // namespace motornet
