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
  // A muscle path point's coordinate (SPEC §4.1): c on the world (on_mass 0) or c + p on the mass (on_mass 1);
  // its Jacobian is on_mass times the identity.
  template <class T, class Weight>
  static T path_point(const Weight& coordinate, const Weight& on_mass, const T& position) {
    return coordinate + position * on_mass;
  }
};

}  // namespace motornet::equations
