#pragma once
// RigidTendonHillMuscle (SPEC §5.2): the Hill-type muscle of Kistemaker, Wong & Gribble (2010) with a
// rigid tendon. States: activation, muscle length, muscle velocity, force-length PE, force-length CE,
// force-velocity CE, force.
// Its equations: motornet/body/equations/rigid_tendon_hill_muscle.h.

#include "motornet/body/equation_muscle.h"
#include "motornet/body/equations/rigid_tendon_hill_muscle.h"

namespace motornet {

extern template class EquationMuscleImpl<equations::RigidTendonHillMuscle>;

class RigidTendonHillMuscleImpl : public EquationMuscleImpl<equations::RigidTendonHillMuscle> {
 public:
  using EquationMuscleImpl::EquationMuscleImpl;
  std::string type_name() const override { return "RigidTendonHillMuscle"; }
};
TORCH_MODULE(RigidTendonHillMuscle);

}  // namespace motornet
