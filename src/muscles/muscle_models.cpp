// The built-in muscle models, each instantiated once from its equation set (motornet/body/equations/).
#include "motornet/muscles/compliant_tendon_hill_muscle.h"
#include "motornet/muscles/mujoco_hill_muscle.h"
#include "motornet/muscles/relu_muscle.h"
#include "motornet/muscles/rigid_tendon_hill_muscle.h"
#include "motornet/muscles/rigid_tendon_hill_muscle_thelen.h"

namespace motornet {

template class EquationMuscleImpl<equations::ReluMuscle>;
template class EquationMuscleImpl<equations::RigidTendonHillMuscle>;
template class EquationMuscleImpl<equations::RigidTendonHillMuscleThelen>;
template class EquationMuscleImpl<equations::MujocoHillMuscle>;
template class EquationMuscleImpl<equations::CompliantTendonHillMuscle>;

}  // namespace motornet
