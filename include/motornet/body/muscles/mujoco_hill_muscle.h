#pragma once
// MujocoHillMuscle (SPEC §5.4): MuJoCo's muscle curves with a rigid tendon. States as
// RigidTendonHillMuscle.
// Its equations: motornet/body/equations/mujoco_hill_muscle.h.

#include "motornet/body/equation_muscle.h"
#include "motornet/body/equations/mujoco_hill_muscle.h"

namespace motornet {

extern template class EquationMuscleImpl<equations::MujocoHillMuscle>;

class MujocoHillMuscleImpl : public EquationMuscleImpl<equations::MujocoHillMuscle> {
 public:
  using EquationMuscleImpl::EquationMuscleImpl;
  std::string type_name() const override { return "MujocoHillMuscle"; }
};
TORCH_MODULE(MujocoHillMuscle);

}  // namespace motornet
