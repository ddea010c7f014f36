#pragma once
// CompliantTendonHillMuscle (SPEC §5.5): Kistemaker et al. (2010) with a compliant tendon. The fibre length
// is a state integrated from the normalised fibre velocity that balances tendon and fibre forces. States:
// activation, muscle length, muscle velocity, force-length PE, force-length SE, active force, force.
// Its equations: motornet/body/equations/compliant_tendon_hill_muscle.h.

#include "motornet/body/equation_muscle.h"
#include "motornet/body/equations/compliant_tendon_hill_muscle.h"

namespace motornet {

extern template class EquationMuscleImpl<equations::CompliantTendonHillMuscle>;

class CompliantTendonHillMuscleImpl : public EquationMuscleImpl<equations::CompliantTendonHillMuscle> {
 public:
  using EquationMuscleImpl::EquationMuscleImpl;
  std::string type_name() const override { return "CompliantTendonHillMuscle"; }
};
TORCH_MODULE(CompliantTendonHillMuscle);

}  // namespace motornet
