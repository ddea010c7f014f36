#pragma once
// RigidTendonHillMuscleThelen (SPEC §5.3): Thelen's (2003) curves with a rigid tendon. States as
// RigidTendonHillMuscle.
// Its equations: motornet/body/equations/rigid_tendon_hill_muscle_thelen.h.

#include "motornet/body/equation_muscle.h"
#include "motornet/body/equations/rigid_tendon_hill_muscle_thelen.h"

namespace motornet {

extern template class EquationMuscleImpl<equations::RigidTendonHillMuscleThelen>;

class RigidTendonHillMuscleThelenImpl : public EquationMuscleImpl<equations::RigidTendonHillMuscleThelen> {
 public:
  using EquationMuscleImpl::EquationMuscleImpl;
  std::string type_name() const override { return "RigidTendonHillMuscleThelen"; }
};
TORCH_MODULE(RigidTendonHillMuscleThelen);

}  // namespace motornet
