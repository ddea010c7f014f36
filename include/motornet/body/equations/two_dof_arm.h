#pragma once
// TwoDofArm (SPEC §3.2): the planar shoulder-elbow arm's dynamics and endpoint kinematics over the number type
// (ops.h); `o` is a TwoDofArmOptions (m1, m2, l1, l2, l1g, l2g, i1, i2, viscosity). A joint state is
// (q1, q2, q1', q2'); on tensors each is a column [B].

#include <array>

#include "motornet/body/equations/ops.h"

namespace motornet::equations {

struct TwoDofArm {
  // acc = M(q)^-1 (tau + J^T F - c(q, q')); `endpoint_load` may be nullptr (no force on the hand).
  template <class T, class Options>
  static std::array<T, 2> acceleration(const Options& o, const std::array<T, 2>& generalized_force,
                                       const std::array<T, 4>& joint, const std::array<T, 2>* endpoint_load) {
    const T &q1 = joint[0], &q2 = joint[1], &v1 = joint[2], &v2 = joint[3];
    const double inertia_11 =
        o.m1() * o.l1g() * o.l1g() + o.i1() + o.m2() * (o.l2g() * o.l2g() + o.l1() * o.l1()) + o.i2();
    const double inertia_12 = o.m2() * o.l2g() * o.l2g() + o.i2();
    const double coupling = o.m2() * o.l1() * o.l2g();
    auto c2 = cos(q2), s2 = sin(q2);
    auto mass_11 = inertia_11 + 2.0 * coupling * c2;
    auto mass_12 = inertia_12 + coupling * c2;
    const double mass_22 = inertia_12;

    auto velocity_term_1 = -coupling * s2 * (2.0 * v1 + v2) * v2 + o.viscosity() * v1;
    auto velocity_term_2 = coupling * s2 * v1 * v1 + o.viscosity() * v2;

    auto rhs_1 = generalized_force[0] - velocity_term_1;
    auto rhs_2 = generalized_force[1] - velocity_term_2;
    if (endpoint_load) {  // J^T F
      auto s1 = sin(q1), c1 = cos(q1);
      auto s12 = sin(q1 + q2), c12 = cos(q1 + q2);
      const T &fx = (*endpoint_load)[0], &fy = (*endpoint_load)[1];
      rhs_1 = rhs_1 + (-o.l1() * s1 - o.l2() * s12) * fx + (o.l1() * c1 + o.l2() * c12) * fy;
      rhs_2 = rhs_2 - o.l2() * s12 * fx + o.l2() * c12 * fy;
    }
    auto determinant = mass_11 * mass_22 - mass_12 * mass_12;
    return {(mass_22 * rhs_1 - mass_12 * rhs_2) / determinant, (mass_11 * rhs_2 - mass_12 * rhs_1) / determinant};
  }

  // Endpoint position (x, y) and velocity J q'.
  template <class T, class Options>
  static std::array<T, 4> cartesian(const Options& o, const std::array<T, 4>& joint) {
    const T &q1 = joint[0], &q2 = joint[1], &v1 = joint[2], &v2 = joint[3];
    auto s1 = sin(q1), c1 = cos(q1);
    auto s12 = sin(q1 + q2), c12 = cos(q1 + q2);
    return {o.l1() * c1 + o.l2() * c12, o.l1() * s1 + o.l2() * s12,
            (-o.l1() * s1 - o.l2() * s12) * v1 - o.l2() * s12 * v2,
            (o.l1() * c1 + o.l2() * c12) * v1 + o.l2() * c12 * v2};
  }
};

}  // namespace motornet::equations
