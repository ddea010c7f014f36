#pragma once
// What each evaluation trial did, in the terms motor-control studies report: for a reach, the endpoint error,
// the maximum lateral deviation from the straight start-target line (signed: positive to the left of the
// movement direction), the reaction time (go cue to movement onset), the movement time and the peak speed; for a
// posture trial (the target is the start), the maximum displacement and the time to return within 1 cm; for a
// catch trial (no go cue), the drift: the farthest the hand strays from the start.

#include <torch/torch.h>

#include <string>
#include <vector>

#include "motornet/control/episode.h"
#include "motornet/env/trials.h"

namespace motornet {

enum class TrialKind { kReach, kPosture, kCatch };
std::string trial_kind_name(TrialKind kind);

struct TrialMeasures {
  TrialKind kind = TrialKind::kReach;
  double endpoint_error = 0.0;   // m: distance from the target at the last step
  double peak_speed = 0.0;       // m/s
  // m: the signed lateral deviation of largest size (2-D reaches; 0 otherwise).
  double lateral_deviation = 0.0;
  double reaction_time = NAN;    // s: go cue to the first step above 10% of peak speed; NaN without movement
  // s: from movement onset to the last time the speed is above 10% of its peak (0 without movement).
  double movement_time = 0.0;
  double max_displacement = 0.0;  // m: farthest from the start (posture and catch trials: the drift)
  double return_time = NAN;       // s: posture trials: from the start to the last step beyond 1 cm; NaN if still beyond
};

// One entry per trial of `episode`, whose conditions are `trials`.
std::vector<TrialMeasures> measure_trials(const EpisodeRecord& episode, const Trials& trials, double timestep);

}  // namespace motornet
