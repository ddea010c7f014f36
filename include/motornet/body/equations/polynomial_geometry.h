#pragma once
// PolynomialGeometry (SPEC §4.2) over the number type (ops.h): a muscle's length is a0 plus, for each dof d, a
// quadratic in th_d = q_d - offset_d; its moment arm on d is that quadratic's slope and its velocity the sum of
// q'_d times the moment arms. On tensors the coefficients are [D, M] and th, q' [B, D, 1]; on numbers, one dof of
// one muscle.

#include <array>

#include "motornet/body/equations/ops.h"

namespace motornet::equations {

struct PolynomialGeometry {
  // One dof's part of one muscle's geometry: {its term of the length, its term of the velocity, the moment arm}.
  template <class T, class Coefficient>
  static std::array<T, 3> dof_terms(const Coefficient& a1, const Coefficient& a2, const T& theta,
                                    const T& joint_velocity) {
    T moment = a1 + 2.0 * a2 * theta;
    return {(a1 + a2 * theta) * theta, joint_velocity * moment, moment};
  }
};

}  // namespace motornet::equations
