#include "motornet/body/effector_config.h"

#include <fmt/format.h>

#include "motornet/core/error.h"
#include "motornet/body/presets.h"
#include "motornet/body/registry.h"

namespace motornet {

namespace {

// The muscle block: `type` and model-wide parameter values.
Muscle muscle_from_config(const ConfigNode& block, const std::string& default_type) {
  block.require_map();
  std::string type = default_type;
  if (auto type_node = block.child("type")) type = type_node->as_string();
  require(!type.empty(), block.path() + ".type", "required key is missing");
  MuscleParameters shared;
  for (const auto& key : block.keys()) {
    if (key != "type") shared[key] = block.at(key).as_double();
  }
  // The model checks parameter names (with suggestions) when it is built and reports them under this block.
  return make_muscle(type, shared, block.path());
}

}  // namespace

EffectorOptions effector_options_from_config(const ConfigNode& block, EffectorOptions options) {
  return effector_option_table().assign(block, std::move(options));
}

Effector effector_from_config(const ConfigNode& block) {
  block.require_map();
  if (auto preset = block.child("preset")) {
    const auto& definition = preset_definition(preset->as_string(), preset->path());
    block.check_keys(effector_option_table().keys_and({"preset", "muscle"}));
    auto options = effector_options_from_config(block, definition.default_options);
    Muscle muscle;
    if (auto muscle_block = block.child("muscle")) muscle = muscle_from_config(*muscle_block, definition.default_muscle_type);
    return under_path(block.path(), [&] { return definition.build(muscle, options); });
  }

  block.check_keys(effector_option_table().keys_and({"skeleton", "muscle", "muscles"}));
  auto skeleton = make_skeleton(block.at("skeleton"));
  auto muscle = muscle_from_config(block.at("muscle"), "");
  auto options = effector_options_from_config(block, EffectorOptions());
  auto effector = under_path(block.path(), [&] { return Effector(skeleton, muscle, options); });

  auto muscles = block.at("muscles");
  if (!muscles.is_sequence() || muscles.size() == 0) muscles.fail("expected a non-empty list of muscles");
  for (size_t m = 0; m < muscles.size(); ++m) {
    auto entry_block = muscles.at(m);
    entry_block.require_map();
    MusclePath path;
    for (const auto& body : entry_block.at("fixation_body").as_doubles()) {
      if (body != static_cast<int64_t>(body)) entry_block.at("fixation_body").fail("body indices must be whole numbers");
      path.fixation_body.push_back(static_cast<int64_t>(body));
    }
    path.coordinates = entry_block.at("coordinates").as_matrix();
    MuscleEntry entry{entry_block.get_string("name", fmt::format("muscle_{}", m)), {}, entry_block.path()};
    for (const auto& key : entry_block.keys()) {
      if (key != "name" && key != "fixation_body" && key != "coordinates")
        entry.parameters[key] = entry_block.at(key).as_double();
    }
    effector->add_muscle(path, entry);
  }
  return effector;
}

}  // namespace motornet
