// The built-in muscle models, each instantiated once from its equation set (motornet/body/equations/).
#include "motornet/body/muscles/compliant_tendon_hill_muscle.h"
#include "motornet/body/muscles/mujoco_hill_muscle.h"
#include "motornet/body/muscles/relu_muscle.h"
#include "motornet/body/muscles/rigid_tendon_hill_muscle.h"
#include "motornet/body/muscles/rigid_tendon_hill_muscle_thelen.h"

namespace motornet {

template class EquationMuscleImpl<equations::ReluMuscle>;
template class EquationMuscleImpl<equations::RigidTendonHillMuscle>;
template class EquationMuscleImpl<equations::RigidTendonHillMuscleThelen>;
template class EquationMuscleImpl<equations::MujocoHillMuscle>;
template class EquationMuscleImpl<equations::CompliantTendonHillMuscle>;

}  // namespace motornet
