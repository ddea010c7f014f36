#pragma once
// The preset effectors of SPEC §6. Each takes a muscle model that is not yet built (nullptr: the preset's
// default type) and effector options (the preset's defaults unless given); parameters the caller set on the
// muscle model override the preset's per-muscle values.

#include <string>

#include "motornet/body/effector.h"

namespace motornet {

// Point mass in a 2 x 2 square pulled by 4 ReLU muscles from the corners (ReluMuscle only).
Effector make_relu_point_mass24(Muscle muscle = nullptr, EffectorOptions options = {});
// Nijhof & Kouwenhoven (2000) arm with 6 lumped muscles and polynomial moment arms; any rigid-tendon muscle.
Effector make_rigid_tendon_arm26(Muscle muscle = nullptr, EffectorOptions options = {});
// The same arm with CompliantTendonHillMuscle (default timestep 0.0002 s, RK4).
EffectorOptions compliant_tendon_arm26_options();
Effector make_compliant_tendon_arm26(Muscle muscle = nullptr, EffectorOptions options = compliant_tendon_arm26_options());
// The arm with 4 torque generators (shoulder flexor/extensor, elbow flexor/extensor); any muscle type.
Effector make_reacher(Muscle muscle = nullptr, EffectorOptions options = {});
// A point mass in [-0.6, 0.6]² driven by 4 force generators along ±x, ±y; any muscle type.
Effector make_free_point_mass24(Muscle muscle = nullptr, EffectorOptions options = {});

// By name, as in YAML `preset:`; `options` default to the preset's own.
Effector make_preset(const std::string& name, Muscle muscle = nullptr,
                     std::optional<EffectorOptions> options = std::nullopt);

}  // namespace motornet
