#pragma once
// The semi-implicit joint integration with position and velocity bounds that every skeleton shares (SPEC §2.1),
// over the number type (ops.h). On tensors it runs on all dofs at once ([B, D] with bounds [D]); on numbers, per
// dof.

#include <array>

#include "motornet/body/equations/ops.h"

namespace motornet::equations {

// (p', v') from acceleration `acc`, position p and velocity v: v' = clip(v + acc h), p' = p + v h (old velocity);
// v' = 0 where it pushes into a position bound it reached; then p' clipped to its bounds.
template <class T, class P>
std::array<T, 2> integrate_joint(double h, const T& acceleration, const T& position, const T& velocity,
                                 const P& position_lower, const P& position_upper, const P& velocity_lower,
                                 const P& velocity_upper) {
  auto new_velocity = clamp_max(clamp_min(velocity + acceleration * h, velocity_lower), velocity_upper);
  auto new_position = position + velocity * h;
  new_velocity = where(logical_and(new_velocity < 0.0, new_position <= position_lower), 0.0, new_velocity);
  new_velocity = where(logical_and(new_velocity > 0.0, new_position >= position_upper), 0.0, new_velocity);
  return {clamp_max(clamp_min(new_position, position_lower), position_upper), new_velocity};
}

}  // namespace motornet::equations
