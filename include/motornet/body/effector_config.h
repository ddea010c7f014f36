#pragma once
// Builds an effector from its YAML block (the `effector` schema of tests/data/golden/README.md):
//   preset:   {preset: NAME, muscle: {type: TYPE, ...model-wide parameters}, ...effector options}
//   custom:   {skeleton: {type: PointMass|TwoDofArm, ...}, muscle: {type: TYPE, ...},
//              muscles: [{name, fixation_body: [...], coordinates: [[...], ...], ...per-muscle parameters}],
//              ...effector options}
// Effector options: timestep, n_ministeps, integration_method, damping, pos_lower_bound, pos_upper_bound,
// vel_lower_bound, vel_upper_bound. Every error names the offending key's path.

#include "motornet/core/config.h"
#include "motornet/body/effector.h"

namespace motornet {

Effector effector_from_config(const ConfigNode& block);

// Reads the effector options present in `block` over `defaults`.
EffectorOptions effector_options_from_config(const ConfigNode& block, EffectorOptions defaults);

}  // namespace motornet
