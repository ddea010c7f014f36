#pragma once
// PointMass (SPEC §3.1) over the number type (ops.h): each dof on its own (on tensors, all at once [B, D]).

#include "motornet/body/equations/ops.h"

namespace motornet::equations {

struct PointMass {
  // acc = (tau + F) / m, per dof.
  template <class T>
  static T acceleration(double mass, const T& generalized_force, const T& endpoint_load) {
    return (generalized_force + endpoint_load) / mass;
  }
  // Without a force on the mass.
  template <class T>
  static T acceleration(double mass, const T& generalized_force) {
    return generalized_force / mass;
  }
};

}  // namespace motornet::equations
