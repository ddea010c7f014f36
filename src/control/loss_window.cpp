#include "motornet/control/loss_window.h"

#include <fmt/format.h>

#include <cmath>

#include "motornet/core/error.h"

namespace motornet {

namespace {

WindowEdge edge_from_config(const ConfigNode& node) {
  WindowEdge edge;
  const auto& yaml = node.yaml();
  if (yaml.IsScalar() && (yaml.Scalar() == "go_cue" || yaml.Scalar() == "target_cue")) {
    edge.kind = yaml.Scalar() == "go_cue" ? WindowEdge::Kind::kGoCue : WindowEdge::Kind::kTargetCue;
    return edge;
  }
  double seconds = 0.0;
  try {
    seconds = node.as_double();
  } catch (const InputError&) {
    node.fail("expected a time in seconds or a cue (go_cue, target_cue)");
  }
  if (seconds < 0.0) node.fail(fmt::format("a window edge is a time from the episode's start: got {} s", seconds));
  edge.seconds = seconds;
  return edge;
}

// The first step at or after `seconds` and the last step at or before it, allowing for the round-off of k·dt
// (0.3 / 0.01 is 29.999999999999996).
int64_t first_step_from(double seconds, double timestep) {
  return static_cast<int64_t>(std::ceil(seconds / timestep - 1e-9));
}
int64_t last_step_until(double seconds, double timestep) {
  return static_cast<int64_t>(std::floor(seconds / timestep + 1e-9));
}

torch::Tensor cue_steps(const EpisodeRecord& episode, WindowEdge::Kind kind) {
  const auto& steps = kind == WindowEdge::Kind::kGoCue ? episode.go_cue_step : episode.target_cue_step;
  TORCH_CHECK(steps.defined(), "a loss window on a cue needs the episode's cue steps (recorded by rollout())");
  return steps.unsqueeze(1);  // [B, 1]
}

}  // namespace

std::string WindowEdge::describe() const {
  switch (kind) {
    case Kind::kGoCue: return "go_cue";
    case Kind::kTargetCue: return "target_cue";
    case Kind::kTime: break;
  }
  return fmt::format("{} s", seconds);
}

std::string LossWindow::describe() const {
  if (from && until) return fmt::format("from {} until {}", from->describe(), until->describe());
  if (from) return "from " + from->describe();
  if (until) return "until " + until->describe();
  return "the whole episode";
}

torch::Tensor LossWindow::mask(const EpisodeRecord& episode, int64_t first_step, int64_t n,
                               const torch::Tensor& like) const {
  const int64_t B = like.size(0);
  auto step = torch::arange(first_step, first_step + n, torch::kInt64).unsqueeze(0);  // [1, n]
  auto counted = torch::ones({B, n}, torch::kBool);
  if (from) {
    counted = counted & (from->kind == WindowEdge::Kind::kTime
                             ? step >= first_step_from(from->seconds, episode.timestep)
                             : step >= cue_steps(episode, from->kind));
  }
  if (until) {
    counted = counted & (until->kind == WindowEdge::Kind::kTime
                             ? step <= last_step_until(until->seconds, episode.timestep)
                             : step < cue_steps(episode, until->kind));
  }
  return counted.to(like.options());
}

LossWindow loss_window_from_config(const ConfigNode& entry) {
  LossWindow window;
  if (auto span = entry.child("window")) {
    if (entry.has("from") || entry.has("until"))
      span->fail("give either `window: [t0, t1]` or `from`/`until`, not both");
    const auto times = span->as_doubles(2);
    if (times[0] < 0.0 || times[1] < times[0])
      span->fail(fmt::format("expected [t0, t1] with 0 <= t0 <= t1 (s), got [{}, {}]", times[0], times[1]));
    window.from = WindowEdge{WindowEdge::Kind::kTime, times[0]};
    window.until = WindowEdge{WindowEdge::Kind::kTime, times[1]};
    return window;
  }
  if (auto from = entry.child("from")) window.from = edge_from_config(*from);
  if (auto until = entry.child("until")) window.until = edge_from_config(*until);
  if (window.from && window.until && window.from->kind == WindowEdge::Kind::kTime &&
      window.until->kind == WindowEdge::Kind::kTime && window.until->seconds < window.from->seconds)
    entry.fail(fmt::format("`until` ({} s) comes before `from` ({} s)", window.until->seconds, window.from->seconds));
  return window;
}

}  // namespace motornet
