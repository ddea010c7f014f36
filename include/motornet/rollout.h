#pragma once
// Runs a policy in an environment for one whole episode and records it (differentiable unless called under
// torch::NoGradGuard).

#include "motornet/environment.h"
#include "motornet/episode.h"
#include "motornet/policy.h"

namespace motornet {

EpisodeRecord rollout(EnvironmentImpl& environment, PolicyImpl& policy, const ResetOptions& reset);

}  // namespace motornet
