#include "motornet/train/evaluation.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "motornet/core/error.h"
#include "motornet/io/atomic_file.h"
#include "motornet/io/figures.h"
#include "motornet/io/rollout_file.h"
#include "motornet/control/rollout.h"
#include "motornet/body/skeletons/two_dof_arm.h"
#include "train/checkpoint_archive.h"

namespace motornet {

namespace fs = std::filesystem;

namespace {

// Whether trial b is a probe trial of a force channel.
bool in_channel(const EvaluationResult& result, int64_t b) {
  for (size_t i = 0; i < result.field_types.size(); ++i)
    if (result.field_types[i] == "channel" && result.trials.fields.at(i).active[b].item<double>() > 0.0) return true;
  return false;
}

nlohmann::json number_or_null(double value) { return std::isnan(value) ? nlohmann::json(nullptr) : nlohmann::json(value); }

// Mean of `values`, or NaN when empty.
double mean_of(const std::vector<double>& values) {
  if (values.empty()) return NAN;
  double sum = 0.0;
  for (double value : values) sum += value;
  return sum / values.size();
}

// Trial b's unit start-to-target direction [2] (float64); undefined for a 3-D body or a trial without a movement.
torch::Tensor planar_movement_direction(const EvaluationResult& result, const torch::Tensor& forces, int64_t b) {
  if (forces.size(2) != 2) return {};
  auto direction = (result.trials.target[b] - result.trials.start[b]).to(torch::kFloat64);
  const double length = direction.norm().item<double>();
  if (length < 1e-9) return {};
  return direction / length;
}

// The force the hand exerts against a channel, along the left normal of the start-target line (positive: pushing
// left; the channel pushes back with the opposite force), at the trial's step of peak hand speed: the
// feed-forward force a network has learned (compensating a clockwise curl field pushes left). 2-D reaches only.
double lateral_push_at_peak_speed(const EvaluationResult& result, const torch::Tensor& forces, int64_t b) {
  const auto direction = planar_movement_direction(result, forces, b);
  if (!direction.defined()) return NAN;
  const int64_t peak = result.episode.hand_velocity[b].norm(2, 1).argmax().item<int64_t>();
  // forces[b][j] acts during step j -> j + 1, the step that produced state j + 1.
  const int64_t step = std::clamp<int64_t>(peak - 1, 0, forces.size(1) - 1);
  const auto force = forces[b][step].to(torch::kFloat64);
  const double left = -direction[1].item<double>() * force[0].item<double>() + direction[0].item<double>() * force[1].item<double>();
  return -left;  // the hand's push is the opposite of the channel's force
}

// The force the hand exerts against a channel per unit of its speed along the channel (N s/m): the slope of the
// lateral push on the forward speed over the whole trial, by least squares through the origin. A curl field of
// strength c pushes sideways with c times the speed, so a network that has learned to compensate it fully
// pushes back with a slope of c; the slope divided by c is the adaptation index of force-channel experiments
// (Smith, Ghazizadeh & Shadmehr 2006). Using every step, it is far less noisy than the push at one instant,
// which the channel's spring and damper make oscillate. 2-D reaches only.
double lateral_push_per_speed(const EvaluationResult& result, const torch::Tensor& forces, int64_t b) {
  const auto direction = planar_movement_direction(result, forces, b);
  if (!direction.defined()) return NAN;
  const auto left_normal = torch::stack({-direction[1], direction[0]});
  const int64_t steps = forces.size(1);
  // forces[b][j] acts during step j -> j + 1 and follows from state j (its position and velocity).
  const auto push = -(forces[b].to(torch::kFloat64).matmul(left_normal));                      // [T]
  const auto speed = result.episode.hand_velocity[b].narrow(0, 0, steps).to(torch::kFloat64).matmul(direction);  // [T]
  const double speed_squared = speed.pow(2).sum().item<double>();
  if (speed_squared < 1e-12) return NAN;
  return (push * speed).sum().item<double>() / speed_squared;
}

}  // namespace

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

  result.trials = environment.trials();
  for (size_t i = 0; i < environment.task()->fields().size(); ++i) {
    result.field_names.push_back(environment.task()->field_name(i));
    result.field_types.push_back(environment.task()->fields()[i]->type_name());
  }
  result.measures = measure_trials(result.episode, result.trials, environment.timestep());

  // Per target: the plain reaches (catch, posture and channel trials are reported on their own).
  std::vector<std::vector<double>> reaction_times;
  for (int64_t b = 0; b < static_cast<int64_t>(result.measures.size()); ++b) {
    const auto& m = result.measures[b];
    if (m.kind != TrialKind::kReach || in_channel(result, b)) continue;
    auto target = result.trials.target[b].to(torch::kFloat64).contiguous();
    std::vector<double> point(target.data_ptr<double>(), target.data_ptr<double>() + target.numel());
    auto it = std::find_if(result.targets.begin(), result.targets.end(), [&](const TargetSummary& s) {
      double distance = 0;
      for (size_t i = 0; i < point.size(); ++i) distance += std::pow(s.target[i] - point[i], 2);
      return std::sqrt(distance) < 1e-6;
    });
    if (it == result.targets.end()) {
      result.targets.push_back(TargetSummary{point});
      reaction_times.emplace_back();
      it = result.targets.end() - 1;
    }
    it->trials += 1;
    it->endpoint_error += m.endpoint_error;
    it->peak_speed += m.peak_speed;
    it->movement_time += m.movement_time;
    it->lateral_deviation += m.lateral_deviation;
    if (!std::isnan(m.reaction_time)) reaction_times[it - result.targets.begin()].push_back(m.reaction_time);
  }
  for (size_t i = 0; i < result.targets.size(); ++i) {
    auto& target = result.targets[i];
    target.endpoint_error /= target.trials;
    target.peak_speed /= target.trials;
    target.movement_time /= target.trials;
    target.lateral_deviation /= target.trials;
    if (!reaction_times[i].empty()) {
      double sum = 0.0;
      for (double t : reaction_times[i]) sum += t;
      target.reaction_time = sum / reaction_times[i].size();
    }
  }
  return result;
}

nlohmann::json to_json(const EvaluationResult& result) {
  nlohmann::json targets = nlohmann::json::array();
  double error = 0, speed = 0, time = 0, lateral = 0, abs_lateral = 0;
  std::vector<double> reaction;
  int64_t reaches = 0;
  for (const auto& t : result.targets) {
    targets.push_back({{"target", t.target},
                       {"trials", t.trials},
                       {"endpoint_error_m", t.endpoint_error},
                       {"peak_speed_m_per_s", t.peak_speed},
                       {"movement_time_s", t.movement_time},
                       {"lateral_deviation_m", t.lateral_deviation},
                       {"reaction_time_s", number_or_null(t.reaction_time)}});
    error += t.endpoint_error * t.trials, speed += t.peak_speed * t.trials, time += t.movement_time * t.trials;
    lateral += t.lateral_deviation * t.trials, abs_lateral += std::abs(t.lateral_deviation) * t.trials;
    if (!std::isnan(t.reaction_time)) reaction.push_back(t.reaction_time);
    reaches += t.trials;
  }
  // Means over the plain reaches; null when there are none (a catch or channel condition).
  const auto per_reach = [&](double sum) { return reaches ? nlohmann::json(sum / reaches) : nlohmann::json(nullptr); };
  nlohmann::json summary = {{"trials", result.measures.size()},
                            {"reach_trials", reaches},
                            {"loss", result.loss},
                            {"loss_terms", result.terms},
                            {"mean_endpoint_error_m", per_reach(error)},
                            {"mean_peak_speed_m_per_s", per_reach(speed)},
                            {"mean_movement_time_s", per_reach(time)},
                            {"mean_lateral_deviation_m", per_reach(lateral)},
                            {"mean_abs_lateral_deviation_m", per_reach(abs_lateral)},
                            {"mean_reaction_time_s", number_or_null(mean_of(reaction))},
                            {"targets", targets}};
  // Catch trials: how far the hand drifts without a go cue; posture trials: how far it is pushed and how soon it
  // is back; channel trials: the force the channel had to exert (the network's learned feed-forward force).
  std::vector<double> drift, displacement, return_time;
  int64_t not_returned = 0;
  for (const auto& m : result.measures) {
    if (m.kind == TrialKind::kCatch) drift.push_back(m.max_displacement);
    if (m.kind == TrialKind::kPosture) {
      displacement.push_back(m.max_displacement);
      if (std::isnan(m.return_time)) ++not_returned; else return_time.push_back(m.return_time);
    }
  }
  if (!drift.empty()) summary["catch"] = {{"trials", drift.size()}, {"mean_drift_m", mean_of(drift)}};
  if (!displacement.empty())
    summary["posture"] = {{"trials", displacement.size()},
                          {"mean_max_displacement_m", mean_of(displacement)},
                          {"mean_return_time_s", number_or_null(mean_of(return_time))},
                          {"not_returned_within_1cm", not_returned}};
  for (size_t i = 0; i < result.field_types.size(); ++i) {
    if (result.field_types[i] != "channel") continue;
    const auto& name = result.field_names[i];
    const auto forces = result.episode.field_forces.count(name) ? result.episode.field_forces.at(name) : torch::Tensor();
    std::vector<double> peak_force, push, push_per_speed, deviation;
    for (int64_t b = 0; b < static_cast<int64_t>(result.measures.size()); ++b) {
      if (result.trials.fields[i].active[b].item<double>() <= 0.0) continue;
      deviation.push_back(result.measures[b].lateral_deviation);
      if (!forces.defined()) continue;
      peak_force.push_back(forces[b].norm(2, 1).max().item<double>());
      const double lateral = lateral_push_at_peak_speed(result, forces, b);
      if (!std::isnan(lateral)) push.push_back(lateral);
      const double slope = lateral_push_per_speed(result, forces, b);
      if (!std::isnan(slope)) push_per_speed.push_back(slope);
    }
    summary["channels"][name] = {{"trials", deviation.size()},
                                 {"mean_peak_force_N", number_or_null(mean_of(peak_force))},
                                 {"mean_lateral_push_N", number_or_null(mean_of(push))},
                                 {"mean_push_per_speed_Ns_per_m", number_or_null(mean_of(push_per_speed))},
                                 {"mean_lateral_deviation_m", number_or_null(mean_of(deviation))}};
  }
  return summary;
}

std::map<std::string, torch::Tensor> evaluation_datasets(const EvaluationResult& result) {
  auto datasets = rollout_datasets(result.episode);
  const auto& trials = result.trials;
  const int64_t B = static_cast<int64_t>(result.measures.size());
  datasets["trials/start"] = trials.start;
  datasets["trials/target"] = trials.target;
  datasets["trials/target_cue_step"] = trials.target_cue_step.to(torch::kInt64);
  datasets["trials/go_cue_step"] =
      torch::where(trials.catch_trial, torch::full_like(trials.go_cue_step, -1), trials.go_cue_step).to(torch::kInt64);
  datasets["trials/catch"] = trials.catch_trial.to(torch::kInt64);
  auto kind = torch::empty({B}, torch::kInt64);
  std::map<std::string, torch::Tensor> measures;
  for (const char* name : {"endpoint_error", "peak_speed", "lateral_deviation", "reaction_time", "movement_time",
                           "max_displacement", "return_time"})
    measures[name] = torch::empty({B}, torch::kFloat64);
  for (int64_t b = 0; b < B; ++b) {
    const auto& m = result.measures[b];
    kind[b] = static_cast<int64_t>(m.kind);
    measures["endpoint_error"][b] = m.endpoint_error;
    measures["peak_speed"][b] = m.peak_speed;
    measures["lateral_deviation"][b] = m.lateral_deviation;
    measures["reaction_time"][b] = m.reaction_time;
    measures["movement_time"][b] = m.movement_time;
    measures["max_displacement"][b] = m.max_displacement;
    measures["return_time"][b] = m.return_time;
  }
  datasets["trials/kind"] = kind;  // 0 reach, 1 posture, 2 catch
  for (const auto& [name, values] : measures) datasets["trials/" + name] = values;
  for (size_t i = 0; i < result.field_names.size(); ++i) {
    const std::string group = "fields/" + result.field_names[i] + "/";
    const auto& draws = trials.fields.at(i);
    if (result.episode.field_forces.count(result.field_names[i]))
      datasets[group + "force"] = result.episode.field_forces.at(result.field_names[i]);
    datasets[group + "active"] = (draws.active > 0).to(torch::kInt64);
    if (result.field_types[i] == "pulse") {
      datasets[group + "onset_step"] = draws.onset_step.to(torch::kInt64);
      datasets[group + "direction"] = draws.direction;
    }
  }
  return datasets;
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
  write_rollout_file((fs::path(directory) / "rollout.h5").string(), evaluation_datasets(result), attributes);
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
  // The cue steps for losses over cue windows (files written before trial records have none); a catch trial's
  // go cue, -1 in the file, is after the episode again.
  if (d.count("trials/go_cue_step") && d.count("trials/target_cue_step")) {
    const int64_t after_the_episode = episode.goal.size(1);
    const auto go = d.at("trials/go_cue_step").to(torch::kInt64);
    episode.go_cue_step = torch::where(go < 0, torch::full_like(go, after_the_episode), go);
    episode.target_cue_step = d.at("trials/target_cue_step").to(torch::kInt64);
  }
  return episode;
}

void load_policy_weights(PolicyImpl& policy, const std::string& checkpoint_file) {
  require(fs::exists(checkpoint_file), checkpoint_file, "no checkpoint");
  try {
    torch::serialize::InputArchive archive, policy_archive;
    load_checkpoint_archive(checkpoint_file, archive);
    archive.read("policy", policy_archive);
    load_parameters_checked(policy, policy_archive, checkpoint_file);
  } catch (const c10::Error& error) {
    std::string what = error.what_without_backtrace();
    throw InputError(checkpoint_file, "the checkpoint is corrupt or does not match this configuration (" +
                                          what.substr(0, what.find('\n')) + ")");
  }
}

}  // namespace motornet
