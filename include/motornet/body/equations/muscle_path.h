#pragma once
// PathGeometry (SPEC §4.1) over the number type (ops.h): a muscle runs straight between points fixed on the
// bodies of a skeleton. The skeleton says where a point is and how it moves (its `path_point` equations); a
// segment's length, lengthening velocity and moment arms follow from its two end points alone, whatever the
// skeleton.

#include <array>
#include <cstddef>

#include "motornet/body/equations/ops.h"

namespace motornet::equations {

// A path point in world coordinates: its position P [S] and Jacobian dP/dq [S][D] (row s: d P_s / d q). A
// skeleton whose point Jacobians do not depend on the joint state (a point mass: 0 or the identity) gives them as
// plain numbers (J = double), so that the dual-number backward carries no derivatives for them.
template <class T, size_t S, size_t D, class J = T>
struct PathPoint {
  std::array<T, S> position;
  std::array<std::array<J, D>, S> jacobian;
};

struct MusclePath {
  // One segment from `start` to `end`, d = P_end - P_start: {|d|, d.(dJ q')/|d|, d.dJ_k/|d| for each dof k},
  // with dJ = J_end - J_start (a moment arm is the length's derivative with respect to the joint angle).
  template <class T, size_t S, size_t D, class J>
  static std::array<T, 2 + D> segment(const PathPoint<T, S, D, J>& start, const PathPoint<T, S, D, J>& end,
                                      const std::array<T, D>& joint_velocity) {
    std::array<T, S> delta;
    std::array<std::array<J, D>, S> delta_jacobian;
    for (size_t s = 0; s < S; ++s) {
      delta[s] = end.position[s] - start.position[s];
      for (size_t d = 0; d < D; ++d) delta_jacobian[s][d] = end.jacobian[s][d] - start.jacobian[s][d];
    }
    return segment_of(delta, delta_jacobian, joint_velocity);
  }

  // The same from the segment's difference vector d and its Jacobian dJ (a skeleton whose points are affine in
  // the joint state has both ready: path_kernel.h).
  template <class T, size_t S, size_t D, class J>
  static std::array<T, 2 + D> segment_of(const std::array<T, S>& delta,
                                         const std::array<std::array<J, D>, S>& delta_jacobian,
                                         const std::array<T, D>& joint_velocity) {
    T squared_length = 0.0;
    for (size_t s = 0; s < S; ++s) squared_length = squared_length + delta[s] * delta[s];
    const T length = sqrt(squared_length);
    const T inverse_length = 1.0 / length;  // one division for the 1 + D quotients below (it is the hot path)
    std::array<T, 2 + D> geometry;
    geometry[0] = length;
    T lengthening = 0.0;
    for (size_t s = 0; s < S; ++s) {
      T point_velocity = 0.0;  // (dJ q')_s
      for (size_t d = 0; d < D; ++d) point_velocity = point_velocity + delta_jacobian[s][d] * joint_velocity[d];
      lengthening = lengthening + delta[s] * point_velocity;
    }
    geometry[1] = lengthening * inverse_length;
    for (size_t d = 0; d < D; ++d) {
      T moment = 0.0;
      for (size_t s = 0; s < S; ++s) moment = moment + delta[s] * delta_jacobian[s][d];
      geometry[2 + d] = moment * inverse_length;
    }
    return geometry;
  }
};

}  // namespace motornet::equations
