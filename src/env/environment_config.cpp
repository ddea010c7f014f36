#include "motornet/env/environment_config.h"

#include <fmt/format.h>

#include <map>
#include <mutex>

#include "motornet/core/error.h"
#include "core/named_registry.h"
#include "motornet/env/tasks/centre_out_reach.h"
#include "motornet/env/tasks/delayed_reach.h"
#include "motornet/env/tasks/posture_hold.h"
#include "motornet/env/tasks/random_target_reach.h"

namespace motornet {

namespace {

const std::vector<std::string> kReachKeys = {"type", "target_cue_window", "go_cue_window", "catch_fraction",
                                             "start_posture", "fields"};
const std::vector<std::string> kFieldKeys = {"type", "name", "fraction", "start_time", "end_time", "off_before_go_cue"};

std::vector<std::string> plus(std::vector<std::string> keys, const std::vector<std::string>& more) {
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

ReachTaskOptions reach_options(const ConfigNode& block, ReachTaskOptions options = {}) {
  if (auto node = block.child("target_cue_window")) options.target_cue_window(node->as_doubles(2));
  if (auto node = block.child("go_cue_window")) options.go_cue_window(node->as_doubles(2));
  if (auto node = block.child("catch_fraction")) options.catch_fraction(node->as_double());
  if (auto node = block.child("start_posture")) options.start_posture(node->as_doubles());
  return options;
}

void add_fields(const ConfigNode& block, Task& task) {
  auto fields = block.child("fields");
  if (!fields) return;
  if (!fields->is_sequence()) fields->fail("expected a list of force fields");
  for (size_t i = 0; i < fields->size(); ++i) task.add_field(force_field_from_config(fields->at(i)));
}

template <class Build>
TaskPtr build_task(const ConfigNode& block, const std::vector<std::string>& keys, Build&& build) {
  block.check_keys(keys);
  TaskPtr task = under_path(block.path(), build);
  add_fields(block, *task);
  return task;
}

NamedRegistry<TaskFactory>& tasks() {
  static NamedRegistry<TaskFactory>* registry = [] {
    auto* r = new NamedRegistry<TaskFactory>();
    r->add("RandomTargetReach", [](const ConfigNode& block) {
      return build_task(block, kReachKeys, [&] { return std::make_shared<RandomTargetReach>(reach_options(block)); });
    });
    r->add("DelayedReach", [](const ConfigNode& block) {
      auto defaults = ReachTaskOptions().go_cue_window({0.2, 0.5});
      return build_task(block, kReachKeys, [&] { return std::make_shared<DelayedReach>(reach_options(block, defaults)); });
    });
    r->add("PostureHold", [](const ConfigNode& block) {
      return build_task(block, kReachKeys, [&] { return std::make_shared<PostureHold>(reach_options(block)); });
    });
    r->add("CentreOutReach", [](const ConfigNode& block) {
      CentreOutReachOptions centre_out;
      if (auto node = block.child("n_targets")) centre_out.n_targets(node->as_int());
      if (auto node = block.child("radius")) centre_out.radius(node->as_double());
      if (auto node = block.child("angle_offset")) centre_out.angle_offset(node->as_double());
      return build_task(block, plus(kReachKeys, {"n_targets", "radius", "angle_offset"}),
                        [&] { return std::make_shared<CentreOutReach>(centre_out, reach_options(block)); });
    });
    return r;
  }();
  return *registry;
}

ForceFieldOptions field_options(const ConfigNode& block, size_t) {
  ForceFieldOptions options;
  if (auto node = block.child("name")) options.name(node->as_string());
  if (auto node = block.child("fraction")) options.fraction(node->as_double());
  if (auto node = block.child("start_time")) options.start_time(node->as_double());
  if (auto node = block.child("end_time")) options.end_time(node->as_double());
  if (auto node = block.child("off_before_go_cue")) options.off_before_go_cue(node->as_bool());
  return options;
}

}  // namespace

void register_task_type(const std::string& type, TaskFactory factory) { tasks().add(type, std::move(factory)); }

std::vector<std::string> task_types() { return tasks().names(); }

TaskPtr task_from_config(const ConfigNode& block) {
  block.require_map();
  const std::string type = block.get_string("type", "RandomTargetReach");
  return tasks().find(type, block.path() + ".type", "task type")(block);
}

std::shared_ptr<ForceField> force_field_from_config(const ConfigNode& block) {
  block.require_map();
  const std::string type = block.at("type").as_string();
  auto build = [&](const std::vector<std::string>& extra, auto&& make) -> std::shared_ptr<ForceField> {
    block.check_keys(plus(kFieldKeys, extra));
    auto options = field_options(block, 0);
    return under_path(block.path(), [&]() -> std::shared_ptr<ForceField> { return make(options); });
  };
  if (type == "curl")
    return build({"strength"}, [&](auto options) { return std::make_shared<CurlField>(block.at("strength").as_double(), options); });
  if (type == "viscous")
    return build({"viscosity"},
                 [&](auto options) { return std::make_shared<ViscousField>(block.at("viscosity").as_double(), options); });
  if (type == "constant")
    return build({"force"}, [&](auto options) { return std::make_shared<ConstantLoad>(block.at("force").as_doubles(), options); });
  if (type == "channel")
    return build({"stiffness", "damping"}, [&](auto options) {
      return std::make_shared<ForceChannel>(block.at("stiffness").as_double(), block.get_double("damping", 0.0), options);
    });
  if (type == "pulse")
    return build({"magnitude", "duration", "onset_window", "directions", "angles"}, [&](auto options) {
      ForcePulseOptions pulse;
      if (auto node = block.child("magnitude")) pulse.magnitude(node->as_double());
      if (auto node = block.child("duration")) pulse.duration(node->as_double());
      if (auto node = block.child("onset_window")) {
        auto window = node->as_doubles(2);
        pulse.onset_earliest(window[0]).onset_latest(window[1]);
      }
      if (block.has("directions") && block.has("angles"))
        block.at("angles").fail("give either 'directions' (vectors) or 'angles' (degrees, planar), not both");
      if (auto node = block.child("directions")) pulse.directions(node->as_matrix());
      if (auto node = block.child("angles")) {
        std::vector<std::vector<double>> directions;
        for (double degrees : node->as_doubles())
          directions.push_back({std::cos(degrees * M_PI / 180.0), std::sin(degrees * M_PI / 180.0)});
        pulse.directions(directions);
      }
      if (pulse.directions().empty()) block.fail("a pulse needs 'directions' or 'angles'");
      return std::make_shared<ForcePulse>(pulse, options);
    });
  const std::vector<std::string> known = {"curl", "viscous", "constant", "pulse", "channel"};
  std::string suggestion = closest_match(type, known);
  throw InputError(block.path() + ".type",
                   fmt::format("unknown field type '{}'{}; known: {}", type,
                               suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)", fmt::join(known, ", ")));
}

EnvironmentOptions environment_options_from_config(const ConfigNode& block) {
  EnvironmentOptions options;
  if (auto node = block.child("max_ep_duration")) options.max_ep_duration(node->as_double());
  if (auto node = block.child("proprioception_delay")) options.proprioception_delay(node->as_double());
  if (auto node = block.child("vision_delay")) options.vision_delay(node->as_double());
  if (auto node = block.child("proprioception_noise")) options.proprioception_noise(node->as_double());
  if (auto node = block.child("vision_noise")) options.vision_noise(node->as_double());
  if (auto node = block.child("obs_noise"))
    options.obs_noise(node->is_scalar() ? std::vector<double>{node->as_double()} : node->as_doubles());
  if (auto node = block.child("action_noise")) options.action_noise(node->as_double());
  if (auto node = block.child("action_frame_stacking")) options.action_frame_stacking(node->as_int());
  if (auto node = block.child("seed")) {
    auto seed = node->as_int();
    if (seed < 0) node->fail("must not be negative");
    options.seed(static_cast<uint64_t>(seed));
  }
  return options;
}

Environment environment_from_config(const ConfigNode& block, Effector effector) {
  block.require_map();
  block.check_keys({"max_ep_duration", "proprioception_delay", "vision_delay", "proprioception_noise", "vision_noise",
                    "obs_noise", "action_noise", "action_frame_stacking", "seed", "task"});
  auto options = environment_options_from_config(block);
  TaskPtr task;
  if (auto task_block = block.child("task")) {
    task = task_from_config(*task_block);
  } else {
    task = std::make_shared<RandomTargetReach>();
  }
  return under_path(block.path(), [&] { return Environment(effector, task, options); });
}

}  // namespace motornet
