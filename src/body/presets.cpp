#include "motornet/body/presets.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "motornet/core/error.h"
#include "motornet/body/geometry/constant_moment_geometry.h"
#include "motornet/body/geometry/polynomial_geometry.h"
#include "motornet/body/registry.h"
#include "motornet/body/skeletons/point_mass.h"
#include "motornet/body/skeletons/two_dof_arm.h"

namespace motornet {

namespace {

constexpr double kDegree = M_PI / 180.0;

Muscle muscle_or_default(Muscle muscle, const std::string& preset) {
  const auto& definition = preset_definition(preset);
  if (!muscle) muscle = make_muscle(definition.default_muscle_type, {}, "muscle");
  const auto& allowed = definition.allowed_muscle_types;
  require(allowed.empty() || std::find(allowed.begin(), allowed.end(), muscle->type_name()) != allowed.end(),
          "muscle.type",
          fmt::format("preset {} cannot use {}; it accepts {}", preset, muscle->type_name(), fmt::join(allowed, ", ")));
  return muscle;
}

// One muscle entry per name, with the preset's per-muscle values unless the caller set that parameter on the
// muscle model (an explicit choice wins over the preset's default).
std::vector<MuscleEntry> entries(const Muscle& muscle, const std::vector<std::string>& names,
                                 const std::map<std::string, std::vector<double>>& values) {
  std::vector<MuscleEntry> result;
  for (size_t m = 0; m < names.size(); ++m) {
    // Errors about a preset's muscles point at the `muscle` block, where the user sets their parameters.
    MuscleEntry entry{names[m], {}, "muscle"};
    for (const auto& [parameter, per_muscle] : values)
      if (!muscle->shared_parameters().count(parameter)) entry.parameters[parameter] = per_muscle[m];
    result.push_back(std::move(entry));
  }
  return result;
}

// The arm of SPEC §6 (Nijhof & Kouwenhoven 2000 inertial parameters) with its bounds.
Skeleton arm26_skeleton() {
  auto arm = std::make_shared<TwoDofArmImpl>(
      TwoDofArmOptions().m1(1.82).m2(1.43).l1g(0.135).l2g(0.165).i1(0.051).i2(0.057).l1(0.309).l2(0.333));
  arm->set_bounds(std::vector<double>{0.0, 0.0}, std::vector<double>{135.0 * kDegree, 155.0 * kDegree}, std::nullopt,
                  std::nullopt);
  return arm;
}

const std::vector<std::string> kArm26Muscles = {"pectoralis", "deltoid", "brachioradialis",
                                                "tricepslat", "biceps",  "tricepslong"};

Geometry arm26_geometry(std::vector<double> a0) {
  return std::make_shared<PolynomialGeometryImpl>(PolynomialGeometryOptions()
                                                      .a0(std::move(a0))
                                                      .a1({{-0.03, 0.03, 0, 0, -0.03, 0.03}, {0, 0, -0.014, 0.025, -0.016, 0.03}})
                                                      .a2({{0, 0, 0, 0, 0, 0}, {0, 0, -0.004, -0.0022, -0.0057, -0.0032}})
                                                      .angle_offset({M_PI / 2.0, 0.0}));
}

Effector arm26(Muscle muscle, EffectorOptions options, const std::string& preset, std::vector<double> tendon_length,
               std::vector<double> a0) {
  muscle = muscle_or_default(muscle, preset);
  auto muscles = entries(muscle, kArm26Muscles,
                         {{"max_isometric_force", {838, 1207, 1422, 1549, 414, 603}},
                          {"tendon_length", std::move(tendon_length)},
                          {"optimal_muscle_length", {0.134, 0.140, 0.092, 0.093, 0.137, 0.127}}});
  return Effector(arm26_skeleton(), muscle, arm26_geometry(std::move(a0)), muscles, std::move(options));
}

}  // namespace

Effector make_relu_point_mass24(Muscle muscle, EffectorOptions options) {
  muscle = muscle_or_default(muscle, "ReluPointMass24");
  auto point_mass = std::make_shared<PointMassImpl>(PointMassOptions().space_dim(2).mass(1.0));
  Effector effector(point_mass, muscle, std::move(options));
  const std::vector<std::pair<std::string, std::vector<double>>> corners = {
      {"UpperRight", {2.0, 2.0}}, {"UpperLeft", {-2.0, 2.0}}, {"LowerRight", {2.0, -2.0}}, {"LowerLeft", {-2.0, -2.0}}};
  for (const auto& [name, corner] : corners) {
    MuscleParameters parameters;
    if (!muscle->shared_parameters().count("max_isometric_force")) parameters["max_isometric_force"] = 500.0;
    effector->add_muscle(MusclePath{{0, 1}, {corner, {0.0, 0.0}}}, MuscleEntry{name, parameters, "muscle"});
  }
  return effector;
}

Effector make_rigid_tendon_arm26(Muscle muscle, EffectorOptions options) {
  return arm26(std::move(muscle), std::move(options), "RigidTendonArm26", {0.039, 0.066, 0.172, 0.187, 0.204, 0.217},
               {0.151, 0.2322, 0.2859, 0.2355, 0.3329, 0.2989});
}

EffectorOptions compliant_tendon_arm26_options() {
  return EffectorOptions().timestep(0.0002).integration_method(IntegrationMethod::kRungeKutta4);
}

Effector make_compliant_tendon_arm26(Muscle muscle, EffectorOptions options) {
  return arm26(std::move(muscle), std::move(options), "CompliantTendonArm26",
               {0.070, 0.070, 0.172, 0.187, 0.204, 0.217}, {0.182, 0.2362, 0.2859, 0.2355, 0.3329, 0.2989});
}

Effector make_reacher(Muscle muscle, EffectorOptions options) {
  muscle = muscle_or_default(muscle, "Reacher");
  auto muscles = entries(muscle, {"sf", "se", "ef", "ee"}, {{"max_isometric_force", {1000, 1000, 1000, 1000}}});
  auto geometry = std::make_shared<ConstantMomentGeometryImpl>(std::vector<std::vector<double>>{{-1, 1, 0, 0}, {0, 0, -1, 1}});
  return Effector(arm26_skeleton(), muscle, geometry, muscles, std::move(options));
}

Effector make_free_point_mass24(Muscle muscle, EffectorOptions options) {
  muscle = muscle_or_default(muscle, "FreePointMass24");
  auto point_mass = std::make_shared<PointMassImpl>(PointMassOptions().space_dim(2).mass(1.0));
  point_mass->set_bounds(std::vector<double>{-0.6}, std::vector<double>{0.6}, std::nullopt, std::nullopt);
  auto muscles = entries(muscle, {"r", "u", "l", "d"}, {{"max_isometric_force", {1000, 1000, 1000, 1000}}});
  auto geometry = std::make_shared<ConstantMomentGeometryImpl>(std::vector<std::vector<double>>{{-1, 0, 1, 0}, {0, -1, 0, 1}});
  return Effector(point_mass, muscle, geometry, muscles, std::move(options));
}

Effector make_preset(const std::string& name, Muscle muscle, std::optional<EffectorOptions> options) {
  const auto& definition = preset_definition(name);
  return definition.build(std::move(muscle), options ? *options : definition.default_options);
}

}  // namespace motornet
