#pragma once
// The part of an episode a loss term counts: a time window in seconds, or the steps before or after a trial's
// cue, so that position error counts only once the go cue has come and stillness is rewarded before it:
//   losses:
//     - {type: position_l1, from: go_cue}           # steps at and after each trial's go cue
//     - {type: hand_speed, until: go_cue}           # steps before it (the whole trial in a catch trial)
//     - {type: muscle_force, window: [0.2, 0.8]}    # steps whose time k·dt lies in [0.2 s, 0.8 s]
// `from` and `until` take seconds or a cue (go_cue, target_cue) and may be combined; `window: [t0, t1]` is
// `from: t0, until: t1`. A windowed term is the mean of its per-step value over the steps it counts (each
// trial's own steps when a cue bounds it), so its scale does not depend on the window's length; a batch in
// which no step counts gives 0.

#include <torch/torch.h>

#include <optional>
#include <string>

#include "motornet/control/episode.h"
#include "motornet/core/config.h"

namespace motornet {

// One edge of a window: a time, or a trial's cue step.
struct WindowEdge {
  enum class Kind { kTime, kGoCue, kTargetCue };
  Kind kind = Kind::kTime;
  double seconds = 0.0;  // kTime only

  std::string describe() const;  // "0.2 s", "go_cue"
};

struct LossWindow {
  std::optional<WindowEdge> from;   // first counted step: at or after this
  std::optional<WindowEdge> until;  // steps strictly before a cue, or at or before a time

  bool bounded() const { return from.has_value() || until.has_value(); }
  std::string describe() const;  // "from go_cue", "from 0.2 s until 0.8 s"

  // [B, n] (the dtype of `like`): 1 where step first_step + i of trial b counts, else 0.
  torch::Tensor mask(const EpisodeRecord& episode, int64_t first_step, int64_t n, const torch::Tensor& like) const;
};

// From a loss entry's `window`, `from` and `until` keys (absent: the whole episode).
LossWindow loss_window_from_config(const ConfigNode& entry);

}  // namespace motornet
