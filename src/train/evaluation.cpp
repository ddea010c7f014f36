#include "motornet/train/evaluation.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "motornet/core/error.h"
#include "motornet/io/atomic_file.h"
#include "motornet/io/figures.h"
#include "motornet/io/rollout_file.h"
#include "motornet/control/rollout.h"
#include "motornet/body/skeletons/two_dof_arm.h"

namespace motornet {

namespace fs = std::filesystem;

EvaluationResult evaluate(EnvironmentImpl& environment, PolicyImpl& policy, const CompositeLoss& losses,
                          int64_t batch_size) {
  if (batch_size <= 0) batch_size = environment.task()->evaluation_batch_size();
  if (batch_size <= 0) batch_size = 64;
  torch::NoGradGuard no_grad;
  const bool was_training = policy.is_training();
  policy.eval();
  EvaluationResult result;
  result.episode =
      rollout(environment, policy, ResetOptions().batch_size(batch_size).deterministic(true).evaluation(true), true);
  if (was_training) policy.train();
  auto values = losses.compute(result.episode);
  result.loss = values.total.item<double>();
  for (const auto& [name, value] : values.terms) result.terms[name] = value.item<double>();

  // Per-target behaviour.
  const auto& e = result.episode;
  const auto& trials = environment.trials();
  auto speed = e.hand_velocity.norm(2, 2).to(torch::kFloat64);  // [B, T+1]
  auto final_error = (e.fingertip.select(1, -1) - trials.target).norm(2, 1).to(torch::kFloat64);
  const int64_t B = speed.size(0), steps = speed.size(1);
  for (int64_t b = 0; b < B; ++b) {
    auto target = trials.target[b].to(torch::kFloat64);
    std::vector<double> point(target.data_ptr<double>(), target.data_ptr<double>() + target.numel());
    auto it = std::find_if(result.targets.begin(), result.targets.end(), [&](const TargetSummary& s) {
      double distance = 0;
      for (size_t i = 0; i < point.size(); ++i) distance += std::pow(s.target[i] - point[i], 2);
      return std::sqrt(distance) < 1e-6;
    });
    if (it == result.targets.end()) {
      result.targets.push_back(TargetSummary{point});
      it = result.targets.end() - 1;
    }
    auto trial_speed = speed[b];
    const double peak = trial_speed.max().item<double>();
    const int64_t go = std::min<int64_t>(trials.go_cue_step[b].item<int64_t>(), steps - 1);
    double movement_time = 0.0;
    if (peak > 0) {
      auto moving = (trial_speed > 0.1 * peak).nonzero().flatten();
      auto after_go = moving.masked_select(moving >= go);
      if (after_go.numel() > 0)
        movement_time = (after_go.max().item<int64_t>() - after_go.min().item<int64_t>()) * environment.timestep();
    }
    it->trials += 1;
    it->endpoint_error += final_error[b].item<double>();
    it->peak_speed += peak;
    it->movement_time += movement_time;
  }
  for (auto& target : result.targets) {
    target.endpoint_error /= target.trials;
    target.peak_speed /= target.trials;
    target.movement_time /= target.trials;
  }
  return result;
}

nlohmann::json to_json(const EvaluationResult& result) {
  nlohmann::json targets = nlohmann::json::array();
  double error = 0, speed = 0, time = 0;
  int64_t trials = 0;
  for (const auto& t : result.targets) {
    targets.push_back({{"target", t.target},
                       {"trials", t.trials},
                       {"endpoint_error_m", t.endpoint_error},
                       {"peak_speed_m_per_s", t.peak_speed},
                       {"movement_time_s", t.movement_time}});
    error += t.endpoint_error * t.trials, speed += t.peak_speed * t.trials, time += t.movement_time * t.trials;
    trials += t.trials;
  }
  nlohmann::json summary = {{"trials", trials},
                            {"loss", result.loss},
                            {"loss_terms", result.terms},
                            {"mean_endpoint_error_m", trials ? error / trials : 0.0},
                            {"mean_peak_speed_m_per_s", trials ? speed / trials : 0.0},
                            {"mean_movement_time_s", trials ? time / trials : 0.0},
                            {"targets", targets}};
  return summary;
}

void draw_rollout_figures(const std::string& directory, const EpisodeRecord& episode, const EffectorImpl& effector) {
  const fs::path dir(directory);
  if (episode.fingertip.size(2) == 2) plot_trajectories(episode, (dir / "trajectories").string());
  if (auto arm = std::dynamic_pointer_cast<TwoDofArmImpl>(effector.skeleton()))
    plot_arm_snapshots(episode, arm->options().l1(), (dir / "arm_snapshots").string());
  plot_muscle_activation(episode, effector.muscle_names(), (dir / "muscle_activation").string());
  if (episode.hidden.size(2) > 0) plot_hidden_activity(episode, (dir / "hidden_activity").string());
}

void write_evaluation(const std::string& directory, const EvaluationResult& result, const EnvironmentImpl& environment,
                      const std::string& config_yaml) {
  std::error_code error;
  fs::create_directories(directory, error);
  require(!error, directory, "cannot create the directory: " + error.message());
  const auto& effector = environment.effector();
  RolloutAttributes attributes{environment.timestep(), effector->muscle_names(), effector->muscle()->state_names(),
                               config_yaml};
  write_rollout_file((fs::path(directory) / "rollout.h5").string(), rollout_datasets(result.episode), attributes);
  write_text_atomically((fs::path(directory) / "summary.json").string(), to_json(result).dump(2) + "\n");
  draw_rollout_figures(directory, result.episode, *effector);
}

EpisodeRecord episode_from_rollout_file(const std::string& filename) {
  auto file = read_rollout_file(filename);
  auto& d = file.datasets;
  const int64_t S = d.at("cartesian").size(2) / 2;
  EpisodeRecord episode;
  episode.fingertip = d.at("cartesian").narrow(2, 0, S);
  episode.hand_velocity = d.at("cartesian").narrow(2, S, S);
  episode.cartesian = d.at("cartesian");
  episode.goal = d.at("goal");
  episode.joint = d.at("joint");
  episode.muscle = d.at("muscle");
  episode.geometry = d.at("geometry");
  episode.activation = d.at("muscle").select(2, 0);
  episode.hidden = d.at("hidden");
  episode.action = d.at("action");
  episode.observation = d.at("observation");
  episode.timestep = file.attributes.timestep;
  return episode;
}

void load_policy_weights(PolicyImpl& policy, const std::string& checkpoint_file) {
  require(fs::exists(checkpoint_file), checkpoint_file, "no checkpoint");
  try {
    torch::serialize::InputArchive archive, policy_archive;
    archive.load_from(checkpoint_file);
    archive.read("policy", policy_archive);
    load_parameters_checked(policy, policy_archive, checkpoint_file);
  } catch (const c10::Error& error) {
    std::string what = error.what_without_backtrace();
    throw InputError(checkpoint_file, "the checkpoint is corrupt or does not match this configuration (" +
                                          what.substr(0, what.find('\n')) + ")");
  }
}

}  // namespace motornet
