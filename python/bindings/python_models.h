#pragma once
// Muscle models and skeletons whose equations are a Python object's methods (a user's subclass of motornet.muscle.Muscle
// that writes `_integrate`, and optionally `_ode`, in PyTorch). The effector steps it op by op, as it does any
// model without a fused kernel; activation dynamics, parameters and their checks are the engine's.

#include <torch/extension.h>

#include <string>
#include <vector>

#include "motornet/body/muscle.h"

namespace motornet::python {

// Registers `model` (the Python muscle object) as the muscle type `type` of the engine's registry, so that an
// effector's configuration can name it. The object is kept alive for the rest of the process.
void register_python_muscle(const std::string& type, pybind11::object model);

// The same for a skeleton written in Python (`_ode` giving joint accelerations, `_joint2cartesian`,
// `_path2cartesian`); the engine integrates it and applies its bounds (SPEC §2.1), op by op.
void register_python_skeleton(const std::string& type, pybind11::object model);

}  // namespace motornet::python
