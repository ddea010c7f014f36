#pragma once
// Name → factory registries behind YAML `type:` keys. Built-in models are registered on first use; a user's own
// model registers the same way (see examples/custom_muscle.cpp) and is then usable from YAML.

#include <functional>
#include <string>
#include <vector>

#include "motornet/core/config.h"
#include "motornet/body/effector.h"
#include "motornet/body/muscle.h"
#include "motornet/body/skeleton.h"

namespace motornet {

// Builds a muscle model from its model-wide parameters (`config_path` names them in errors).
using MuscleFactory = std::function<Muscle(MuscleParameters shared_parameters, const std::string& config_path)>;
void register_muscle_type(const std::string& type, MuscleFactory factory);
// Throws InputError at `config_path` + ".type" for an unknown type, listing the known ones.
Muscle make_muscle(const std::string& type, MuscleParameters shared_parameters = {}, const std::string& config_path = "");
std::vector<std::string> muscle_types();

// Builds a skeleton from its YAML block (keys other than `type` are the skeleton's options).
using SkeletonFactory = std::function<Skeleton(const ConfigNode& block)>;
void register_skeleton_type(const std::string& type, SkeletonFactory factory);
Skeleton make_skeleton(const ConfigNode& block);
std::vector<std::string> skeleton_types();

// A preset effector: its default options, its default muscle type, the muscle types it accepts (empty: any)
// and how to build it from a muscle model (not yet built) and options.
struct PresetDefinition {
  EffectorOptions default_options;
  std::string default_muscle_type;
  std::vector<std::string> allowed_muscle_types;
  std::function<Effector(Muscle muscle, EffectorOptions options)> build;
};
void register_preset(const std::string& name, PresetDefinition definition);
PresetDefinition preset_definition(const std::string& name, const std::string& config_path = "preset");
std::vector<std::string> preset_names();

}  // namespace motornet
