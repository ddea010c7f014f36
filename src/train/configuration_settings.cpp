#include "train/configuration_settings.h"

#include "motornet/train/phases.h"

namespace motornet {

YAML::Node read_settings(const ConfigNode& entry, const SettingCheck& check) {
  YAML::Node settings(YAML::NodeType::Map);
  auto set = entry.child("set");
  if (!set) return settings;
  if (!set->is_map() && !set->yaml().IsNull()) set->fail("expected a map of key.path: value");
  for (const auto& key : set->keys()) {
    check(key, set->yaml()[key], set->path() + "." + key);
    settings[key] = YAML::Clone(set->yaml()[key]);
  }
  return settings;
}

YAML::Node base_configuration_with(const YAML::Node& config, const YAML::Node& settings, const std::string& origin) {
  YAML::Node resolved = YAML::Clone(config);
  for (const auto& key : run_level_keys()) resolved.remove(key);
  for (const auto& entry : settings) set_config_value(resolved, entry.first.as<std::string>(), entry.second, origin);
  return resolved;
}

}  // namespace motornet
