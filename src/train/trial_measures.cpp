#include "motornet/train/trial_measures.h"

#include <cmath>

namespace motornet {

namespace {
constexpr double kOnsetFraction = 0.1;    // movement: speed above this fraction of the trial's peak
constexpr double kPostureRadius = 0.01;   // m: a posture trial has returned within this distance of the start
constexpr double kSameTarget = 1e-9;      // m: a target this close to the start makes a posture trial
}  // namespace

std::string trial_kind_name(TrialKind kind) {
  switch (kind) {
    case TrialKind::kReach: return "reach";
    case TrialKind::kPosture: return "posture";
    default: return "catch";
  }
}

std::vector<TrialMeasures> measure_trials(const EpisodeRecord& episode, const Trials& trials, double timestep) {
  torch::NoGradGuard no_grad;
  const auto position = episode.fingertip.detach().to(torch::kFloat64).contiguous();  // [B, T+1, S]
  const auto speed = episode.hand_velocity.detach().to(torch::kFloat64).norm(2, 2).contiguous();  // [B, T+1]
  const auto start = trials.start.detach().to(torch::kFloat64).contiguous();
  const auto target = trials.target.detach().to(torch::kFloat64).contiguous();
  const auto go_cue = trials.go_cue_step.to(torch::kInt64).contiguous();
  const auto catch_trial = trials.catch_trial.to(torch::kBool).contiguous();
  const int64_t B = position.size(0), steps = position.size(1), S = position.size(2);
  auto p = position.accessor<double, 3>();
  auto v = speed.accessor<double, 2>();
  auto s0 = start.accessor<double, 2>();
  auto goal = target.accessor<double, 2>();

  std::vector<TrialMeasures> result(B);
  for (int64_t b = 0; b < B; ++b) {
    auto& m = result[b];
    auto distance_from = [&](int64_t t, const auto& point) {
      double sum = 0.0;
      for (int64_t i = 0; i < S; ++i) sum += std::pow(p[b][t][i] - point[b][i], 2);
      return std::sqrt(sum);
    };
    double reach = 0.0;
    for (int64_t i = 0; i < S; ++i) reach += std::pow(goal[b][i] - s0[b][i], 2);
    reach = std::sqrt(reach);
    m.kind = catch_trial[b].item<bool>() ? TrialKind::kCatch : reach < kSameTarget ? TrialKind::kPosture : TrialKind::kReach;
    m.endpoint_error = distance_from(steps - 1, goal);
    for (int64_t t = 0; t < steps; ++t) {
      m.peak_speed = std::max(m.peak_speed, v[b][t]);
      m.max_displacement = std::max(m.max_displacement, distance_from(t, s0));
    }
    // Lateral deviation: the position's component along the left normal of the start-target direction.
    if (S == 2 && reach >= kSameTarget) {
      const double ux = (goal[b][0] - s0[b][0]) / reach, uy = (goal[b][1] - s0[b][1]) / reach;
      for (int64_t t = 0; t < steps; ++t) {
        const double lateral = -uy * (p[b][t][0] - s0[b][0]) + ux * (p[b][t][1] - s0[b][1]);
        if (std::abs(lateral) > std::abs(m.lateral_deviation)) m.lateral_deviation = lateral;
      }
    }
    // Movement: from the go cue on (a catch trial's "cue" is past the episode: it has none).
    const int64_t go = std::min<int64_t>(go_cue[b].item<int64_t>(), steps - 1);
    if (m.peak_speed > 0.0 && m.kind != TrialKind::kCatch) {
      const double threshold = kOnsetFraction * m.peak_speed;
      int64_t onset = -1, offset = -1;
      for (int64_t t = go; t < steps; ++t)
        if (v[b][t] > threshold) {
          if (onset < 0) onset = t;
          offset = t;
        }
      if (onset >= 0) {
        m.reaction_time = (onset - go) * timestep;
        m.movement_time = (offset - onset) * timestep;
      }
    }
    if (m.kind == TrialKind::kPosture) {
      int64_t last_outside = -1;
      for (int64_t t = 0; t < steps; ++t)
        if (distance_from(t, s0) > kPostureRadius) last_outside = t;
      if (last_outside < steps - 1) m.return_time = (last_outside + 1) * timestep;
    }
  }
  return result;
}

}  // namespace motornet
