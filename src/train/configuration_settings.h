#pragma once
// What a training phase and an evaluation condition share: a `set:` map of key.path: value applied on top of the
// run's base configuration (train/phases.h, train/evaluation_conditions.h).

#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>

#include "motornet/core/config.h"

namespace motornet {

// Checks one key of a `set:` map (InputError at `where`, e.g. "phases[1].set.effector.preset").
using SettingCheck = std::function<void(const std::string& key, const YAML::Node& value, const std::string& where)>;

// The `set` map of `entry` (an empty map when absent), each key passed through `check`, values copied.
YAML::Node read_settings(const ConfigNode& entry, const SettingCheck& check);

// The run's configuration without its run-level keys (phases, init_from, provenance, evaluation), with
// `settings` applied; `origin` names them in errors.
YAML::Node base_configuration_with(const YAML::Node& config, const YAML::Node& settings, const std::string& origin);

}  // namespace motornet
