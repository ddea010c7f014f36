#include "motornet/body/registry.h"

#include <fmt/format.h>

#include <map>
#include <mutex>

#include "motornet/core/error.h"
#include "core/named_registry.h"
#include "motornet/body/muscles/compliant_tendon_hill_muscle.h"
#include "motornet/body/muscles/mujoco_hill_muscle.h"
#include "motornet/body/muscles/relu_muscle.h"
#include "motornet/body/muscles/rigid_tendon_hill_muscle.h"
#include "motornet/body/muscles/rigid_tendon_hill_muscle_thelen.h"
#include "motornet/body/presets.h"
#include "motornet/body/skeletons/point_mass.h"
#include "motornet/body/skeletons/two_dof_arm.h"

namespace motornet {

namespace {

template <class Impl>
MuscleFactory muscle_factory() {
  return [](MuscleParameters shared, const std::string& config_path) -> Muscle {
    return std::make_shared<Impl>(std::move(shared), config_path);
  };
}

NamedRegistry<MuscleFactory>& muscles() {
  static NamedRegistry<MuscleFactory>* registry = [] {
    auto* r = new NamedRegistry<MuscleFactory>();
    r->add("ReluMuscle", muscle_factory<ReluMuscleImpl>());
    r->add("RigidTendonHillMuscle", muscle_factory<RigidTendonHillMuscleImpl>());
    r->add("RigidTendonHillMuscleThelen", muscle_factory<RigidTendonHillMuscleThelenImpl>());
    r->add("MujocoHillMuscle", muscle_factory<MujocoHillMuscleImpl>());
    r->add("CompliantTendonHillMuscle", muscle_factory<CompliantTendonHillMuscleImpl>());
    return r;
  }();
  return *registry;
}

Skeleton point_mass_from_config(const ConfigNode& block) {
  auto options = point_mass_option_table().read(block, PointMassOptions(), {"type"});
  return under_path(block.path(), [&] { return std::make_shared<PointMassImpl>(options); });
}

Skeleton two_dof_arm_from_config(const ConfigNode& block) {
  auto options = two_dof_arm_option_table().read(block, TwoDofArmOptions(), {"type"});
  return under_path(block.path(), [&] { return std::make_shared<TwoDofArmImpl>(options); });
}

NamedRegistry<SkeletonFactory>& skeletons() {
  static NamedRegistry<SkeletonFactory>* registry = [] {
    auto* r = new NamedRegistry<SkeletonFactory>();
    r->add("PointMass", point_mass_from_config);
    r->add("TwoDofArm", two_dof_arm_from_config);
    return r;
  }();
  return *registry;
}

NamedRegistry<PresetDefinition>& presets() {
  static NamedRegistry<PresetDefinition>* registry = [] {
    auto* r = new NamedRegistry<PresetDefinition>();
    r->add("ReluPointMass24", {EffectorOptions(), "ReluMuscle", {"ReluMuscle"}, make_relu_point_mass24});
    r->add("RigidTendonArm26",
           {EffectorOptions(),
            "RigidTendonHillMuscle",
            {"RigidTendonHillMuscle", "RigidTendonHillMuscleThelen", "MujocoHillMuscle", "ReluMuscle"},
            make_rigid_tendon_arm26});
    r->add("CompliantTendonArm26", {compliant_tendon_arm26_options(), "CompliantTendonHillMuscle",
                                    {"CompliantTendonHillMuscle"}, make_compliant_tendon_arm26});
    r->add("Reacher", {EffectorOptions(), "ReluMuscle", {}, make_reacher});
    r->add("FreePointMass24", {EffectorOptions(), "ReluMuscle", {}, make_free_point_mass24});
    return r;
  }();
  return *registry;
}

}  // namespace

void register_muscle_type(const std::string& type, MuscleFactory factory) { muscles().add(type, std::move(factory)); }

Muscle make_muscle(const std::string& type, MuscleParameters shared_parameters, const std::string& config_path) {
  auto factory = muscles().find(type, config_path.empty() ? "type" : config_path + ".type", "muscle type");
  return factory(std::move(shared_parameters), config_path);
}

std::vector<std::string> muscle_types() { return muscles().names(); }

void register_skeleton_type(const std::string& type, SkeletonFactory factory) {
  skeletons().add(type, std::move(factory));
}

Skeleton make_skeleton(const ConfigNode& block) {
  block.require_map();
  auto type_node = block.at("type");
  auto factory = skeletons().find(type_node.as_string(), type_node.path(), "skeleton type");
  return factory(block);
}

std::vector<std::string> skeleton_types() { return skeletons().names(); }

void register_preset(const std::string& name, PresetDefinition definition) { presets().add(name, std::move(definition)); }

PresetDefinition preset_definition(const std::string& name, const std::string& config_path) {
  return presets().find(name, config_path, "preset");
}

std::vector<std::string> preset_names() { return presets().names(); }

}  // namespace motornet
