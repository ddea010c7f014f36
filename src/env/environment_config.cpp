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

void add_fields(const ConfigNode& block, Task& task) {
  auto fields = block.child("fields");
  if (!fields) return;
  if (!fields->is_sequence()) fields->fail("expected a list of force fields");
  for (size_t i = 0; i < fields->size(); ++i) task.add_field(force_field_from_config(fields->at(i)));
}

// A reaching task from its block: the common reaching options over the task's defaults, the keys of the task's
// own options (`own_keys`, which `build` reads), then its fields.
template <class Build>
TaskPtr build_task(const ConfigNode& block, ReachTaskOptions defaults, Build&& build,
                   std::vector<std::string> own_keys = {}) {
  own_keys.insert(own_keys.end(), {"type", "fields"});
  block.require_map();
  block.check_keys(reach_task_option_table().keys_and(own_keys));
  const auto reach = reach_task_option_table().assign(block, std::move(defaults));
  TaskPtr task = under_path(block.path(), [&] { return build(reach); });
  add_fields(block, *task);
  return task;
}

NamedRegistry<TaskFactory>& tasks() {
  static NamedRegistry<TaskFactory>* registry = [] {
    auto* r = new NamedRegistry<TaskFactory>();
    r->add("RandomTargetReach", [](const ConfigNode& block) {
      return build_task(block, {}, [](auto reach) { return std::make_shared<RandomTargetReach>(reach); });
    });
    r->add("DelayedReach", [](const ConfigNode& block) {
      return build_task(block, DelayedReach::default_options(),
                        [](auto reach) { return std::make_shared<DelayedReach>(reach); });
    });
    r->add("PostureHold", [](const ConfigNode& block) {
      return build_task(block, {}, [](auto reach) { return std::make_shared<PostureHold>(reach); });
    });
    r->add("CentreOutReach", [](const ConfigNode& block) {
      const auto& own = centre_out_reach_option_table();
      return build_task(
          block, {}, [&](auto reach) { return std::make_shared<CentreOutReach>(own.assign(block), reach); },
          own.keys());
    });
    return r;
  }();
  return *registry;
}

// The built-in force fields, each from its own keys and the common options.
std::shared_ptr<ForceField> curl_field(const ConfigNode& block, ForceFieldOptions options) {
  return std::make_shared<CurlField>(block.at("strength").as_double(), options);
}
std::shared_ptr<ForceField> viscous_field(const ConfigNode& block, ForceFieldOptions options) {
  return std::make_shared<ViscousField>(block.at("viscosity").as_double(), options);
}
std::shared_ptr<ForceField> constant_load(const ConfigNode& block, ForceFieldOptions options) {
  return std::make_shared<ConstantLoad>(block.at("force").as_doubles(), options);
}
std::shared_ptr<ForceField> force_channel(const ConfigNode& block, ForceFieldOptions options) {
  return std::make_shared<ForceChannel>(block.at("stiffness").as_double(), block.get_double("damping", 0.0), options);
}
std::shared_ptr<ForceField> force_pulse(const ConfigNode& block, ForceFieldOptions options) {
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
}

NamedRegistry<ForceFieldType>& fields() {
  static NamedRegistry<ForceFieldType>* registry = [] {
    auto* r = new NamedRegistry<ForceFieldType>();
    r->add("curl", {{"strength"}, curl_field});
    r->add("viscous", {{"viscosity"}, viscous_field});
    r->add("constant", {{"force"}, constant_load});
    r->add("channel", {{"stiffness", "damping"}, force_channel});
    r->add("pulse", {{"magnitude", "duration", "onset_window", "directions", "angles"}, force_pulse});
    return r;
  }();
  return *registry;
}

}  // namespace

void register_task_type(const std::string& type, TaskFactory factory) { tasks().add(type, std::move(factory)); }

std::vector<std::string> task_types() { return tasks().names(); }

TaskPtr task_from_config(const ConfigNode& block) {
  block.require_map();
  const std::string type = block.get_string("type", "RandomTargetReach");
  return tasks().find(type, block.path() + ".type", "task type")(block);
}

void register_force_field_type(const std::string& type, ForceFieldType definition) {
  fields().add(type, std::move(definition));
}

std::vector<std::string> force_field_types() { return fields().names(); }

std::shared_ptr<ForceField> force_field_from_config(const ConfigNode& block) {
  block.require_map();
  const auto type_node = block.at("type");
  const std::string type = type_node.as_string();
  const auto definition = fields().find(type, type_node.path(), "field type");
  std::vector<std::string> other_keys = definition.keys;
  other_keys.push_back("type");
  auto options = force_field_option_table().read(block, ForceFieldOptions(), other_keys);
  return under_path(block.path(), [&] { return definition.build(block, options); });
}

EnvironmentOptions environment_options_from_config(const ConfigNode& block) {
  return environment_option_table().read(block, EnvironmentOptions(), {"task"});
}

Environment environment_from_config(const ConfigNode& block, Effector effector) {
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
