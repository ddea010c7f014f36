#pragma once
// ReluMuscle (SPEC §5.1): force is activation times the maximal isometric force, with no length or
// velocity dependence. States: activation, muscle length, muscle velocity, force.
// Its equations: motornet/body/equations/relu_muscle.h.

#include "motornet/body/equation_muscle.h"
#include "motornet/body/equations/relu_muscle.h"

namespace motornet {

extern template class EquationMuscleImpl<equations::ReluMuscle>;

class ReluMuscleImpl : public EquationMuscleImpl<equations::ReluMuscle> {
 public:
  using EquationMuscleImpl::EquationMuscleImpl;
  std::string type_name() const override { return "ReluMuscle"; }
};
TORCH_MODULE(ReluMuscle);

}  // namespace motornet
