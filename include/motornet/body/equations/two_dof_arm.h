#pragma once
// TwoDofArm (SPEC §3.2): the planar shoulder-elbow arm's dynamics and endpoint kinematics over the number type
// (ops.h); `o` is a TwoDofArmOptions (m1, m2, l1, l2, l1g, l2g, i1, i2, viscosity). A joint state is
// (q1, q2, q1', q2'); on tensors each is a column [B].

#include <array>

#include "motornet/body/equations/muscle_path.h"
#include "motornet/body/equations/ops.h"

namespace motornet::equations {

struct TwoDofArm {
  // The mass matrix is M(q2) = [[inertia_11 + 2 coupling cos q2, inertia_12 + coupling cos q2],
  //                             [inertia_12 + coupling cos q2,   inertia_12]].
  struct MassCoefficients {
    double inertia_11, inertia_12, coupling;
  };
  template <class Options>
  static MassCoefficients mass_coefficients(const Options& o) {
    return {o.m1() * o.l1g() * o.l1g() + o.i1() + o.m2() * (o.l2g() * o.l2g() + o.l1() * o.l1()) + o.i2(),
            o.m2() * o.l2g() * o.l2g() + o.i2(), o.m2() * o.l1() * o.l2g()};
  }

  // acc = M(q)^-1 (tau + J^T F - c(q, q')); `endpoint_load` may be nullptr (no force on the hand).
  template <class T, class Options>
  static std::array<T, 2> acceleration(const Options& o, const std::array<T, 2>& generalized_force,
                                       const std::array<T, 4>& joint, const std::array<T, 2>* endpoint_load) {
    const T &q1 = joint[0], &q2 = joint[1], &v1 = joint[2], &v2 = joint[3];
    const auto [inertia_11, inertia_12, coupling] = mass_coefficients(o);
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

  // A muscle path point (SPEC §4.1) at local coordinates (cx, cy) on the world, the upper arm (rotating by q1
  // about the shoulder) or the forearm (rotating by q1 + q2 about the elbow, which the upper arm carries at l1):
  // its world position and Jacobian. The body is given as 0/1 weights `on_upper_arm`, `on_forearm` (numbers for
  // one point; on tensors, [N] columns for all points at once, with q1, q2 [B, 1]).
  template <class T, class Weight, class Options>
  static PathPoint<T, 2, 2> path_point(const Options& o, const Weight& on_upper_arm, const Weight& on_forearm,
                                       const Weight& cx, const Weight& cy, const T& q1, const T& q2) {
    auto on_world = 1.0 - on_upper_arm - on_forearm;
    auto c1 = cos(q1), s1 = sin(q1), c12 = cos(q1 + q2), s12 = sin(q1 + q2);
    auto upper_x = c1 * cx - s1 * cy, upper_y = s1 * cx + c1 * cy;  // (cx, cy) rotated by q1
    auto fore_x = c12 * cx - s12 * cy, fore_y = s12 * cx + c12 * cy;  // by q1 + q2
    auto elbow_x = o.l1() * c1, elbow_y = o.l1() * s1;
    // d/dq of a rotated vector (x, y) is (-y, x); a forearm point also moves with the elbow under q1.
    return {{on_world * cx + on_upper_arm * upper_x + on_forearm * (elbow_x + fore_x),
             on_world * cy + on_upper_arm * upper_y + on_forearm * (elbow_y + fore_y)},
            {{{on_upper_arm * -upper_y + on_forearm * (-elbow_y - fore_y), on_forearm * -fore_y},
              {on_upper_arm * upper_x + on_forearm * (elbow_x + fore_x), on_forearm * fore_x}}}};
  }
};

}  // namespace motornet::equations
