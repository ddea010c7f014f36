#pragma once
// Runs a policy in an environment for one whole episode and records it (differentiable unless called under
// torch::NoGradGuard).

#include "motornet/env/environment.h"
#include "motornet/control/episode.h"
#include "motornet/control/policy.h"

namespace motornet {

// InputError at "policy" unless the policy's input and output sizes fit the environment and its effector.
void require_policy_fits(const EnvironmentImpl& environment, const PolicyImpl& policy);

// `full` also records the cartesian, muscle and geometry states and the observations (for analysis).
EpisodeRecord rollout(EnvironmentImpl& environment, PolicyImpl& policy, const ResetOptions& reset, bool full = false);

}  // namespace motornet
