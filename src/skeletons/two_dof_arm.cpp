#include "motornet/skeletons/two_dof_arm.h"

#include <fmt/format.h>

#include <cmath>
#include <typeinfo>

#include "../fused/builtin_kernels.h"
#include "motornet/error.h"

namespace motornet {

namespace {
constexpr double kDegree = M_PI / 180.0;

const TwoDofArmOptions& validated(const TwoDofArmOptions& o) {
  auto positive = [](double value, const char* name) {
    require(std::isfinite(value) && value > 0, name, fmt::format("must be positive, got {}", value));
  };
  positive(o.m1(), "m1");
  positive(o.m2(), "m2");
  positive(o.l1(), "l1");
  positive(o.l2(), "l2");
  require(std::isfinite(o.l1g()) && o.l1g() >= 0, "l1g", "must not be negative");
  require(std::isfinite(o.l2g()) && o.l2g() >= 0, "l2g", "must not be negative");
  require(std::isfinite(o.i1()) && o.i1() >= 0, "i1", "must not be negative");
  require(std::isfinite(o.i2()) && o.i2() >= 0, "i2", "must not be negative");
  require(std::isfinite(o.viscosity()), "viscosity", "must be finite");
  return o;
}

// Rotation of local coordinates (cx, cy) [N] by angles [B, 1] and its derivative with respect to the angle.
struct Rotated {
  torch::Tensor x, y, dx, dy;  // [B, N]
};
Rotated rotate(const torch::Tensor& angle, const torch::Tensor& cx, const torch::Tensor& cy) {
  auto c = torch::cos(angle);
  auto s = torch::sin(angle);
  return {c * cx - s * cy, s * cx + c * cy, -s * cx - c * cy, c * cx - s * cy};
}
}  // namespace

TwoDofArmImpl::TwoDofArmImpl(TwoDofArmOptions options)
    : SkeletonImpl(/*dof=*/2, /*space_dim=*/2, /*n_bodies=*/3,
                   {{0.0, 0.0}, {140.0 * kDegree, 160.0 * kDegree}, {-1000.0, -1000.0}, {1000.0, 1000.0}}),
      options_(validated(options)) {}

torch::Tensor TwoDofArmImpl::ode(const torch::Tensor& generalized_force, const torch::Tensor& joint_state,
                                 const torch::Tensor& endpoint_load) const {
  // SPEC §3.2: acc = M(q)^-1 (tau + J^T F - c(q, q')).
  const auto& o = options_;
  auto q1 = joint_state.select(1, 0), q2 = joint_state.select(1, 1);
  auto v1 = joint_state.select(1, 2), v2 = joint_state.select(1, 3);
  const double inertia_11 = o.m1() * o.l1g() * o.l1g() + o.i1() + o.m2() * (o.l2g() * o.l2g() + o.l1() * o.l1()) + o.i2();
  const double inertia_12 = o.m2() * o.l2g() * o.l2g() + o.i2();
  const double coupling = o.m2() * o.l1() * o.l2g();
  auto c2 = torch::cos(q2), s2 = torch::sin(q2);
  auto mass_11 = inertia_11 + 2.0 * coupling * c2;
  auto mass_12 = inertia_12 + coupling * c2;
  const double mass_22 = inertia_12;

  auto velocity_term_1 = -coupling * s2 * (2.0 * v1 + v2) * v2 + o.viscosity() * v1;
  auto velocity_term_2 = coupling * s2 * v1 * v1 + o.viscosity() * v2;

  auto rhs_1 = generalized_force.select(1, 0) - velocity_term_1;
  auto rhs_2 = generalized_force.select(1, 1) - velocity_term_2;
  if (endpoint_load.defined()) {  // J^T F
    auto s1 = torch::sin(q1), c1 = torch::cos(q1);
    auto s12 = torch::sin(q1 + q2), c12 = torch::cos(q1 + q2);
    auto fx = endpoint_load.select(1, 0), fy = endpoint_load.select(1, 1);
    rhs_1 = rhs_1 + (-o.l1() * s1 - o.l2() * s12) * fx + (o.l1() * c1 + o.l2() * c12) * fy;
    rhs_2 = rhs_2 - o.l2() * s12 * fx + o.l2() * c12 * fy;
  }
  auto determinant = mass_11 * mass_22 - mass_12 * mass_12;
  auto acceleration_1 = (mass_22 * rhs_1 - mass_12 * rhs_2) / determinant;
  auto acceleration_2 = (mass_11 * rhs_2 - mass_12 * rhs_1) / determinant;
  return torch::stack({acceleration_1, acceleration_2}, 1);
}

torch::Tensor TwoDofArmImpl::joint_to_cartesian(const torch::Tensor& joint_state) const {
  const auto& o = options_;
  auto q1 = joint_state.select(1, 0), q2 = joint_state.select(1, 1);
  auto v1 = joint_state.select(1, 2), v2 = joint_state.select(1, 3);
  auto s1 = torch::sin(q1), c1 = torch::cos(q1);
  auto s12 = torch::sin(q1 + q2), c12 = torch::cos(q1 + q2);
  auto x = o.l1() * c1 + o.l2() * c12;
  auto y = o.l1() * s1 + o.l2() * s12;
  auto vx = (-o.l1() * s1 - o.l2() * s12) * v1 - o.l2() * s12 * v2;
  auto vy = (o.l1() * c1 + o.l2() * c12) * v1 + o.l2() * c12 * v2;
  return torch::stack({x, y, vx, vy}, 1);
}

PathPoints TwoDofArmImpl::path_points(const torch::Tensor& joint_state, const torch::Tensor& fixation_body,
                                      const torch::Tensor& coordinates) const {
  const auto& o = options_;
  auto dtype = joint_state.dtype();
  auto on_world = (fixation_body == 0).to(dtype);
  auto on_upper_arm = (fixation_body == 1).to(dtype);
  auto on_forearm = (fixation_body == 2).to(dtype);
  auto cx = coordinates.select(0, 0), cy = coordinates.select(0, 1);  // [N]
  auto q1 = joint_state.narrow(1, 0, 1), q2 = joint_state.narrow(1, 1, 1);  // [B, 1]
  auto v1 = joint_state.narrow(1, 2, 1), v2 = joint_state.narrow(1, 3, 1);

  auto upper = rotate(q1, cx, cy);
  auto fore = rotate(q1 + q2, cx, cy);
  auto elbow_x = o.l1() * torch::cos(q1), elbow_y = o.l1() * torch::sin(q1);

  // World position: fixed, rotated with the upper arm, or rotated with the forearm about the moving elbow.
  auto px = on_world * cx + on_upper_arm * upper.x + on_forearm * (elbow_x + fore.x);
  auto py = on_world * cy + on_upper_arm * upper.y + on_forearm * (elbow_y + fore.y);
  // dP/dq1 includes the elbow's motion for forearm points; dP/dq2 moves forearm points only.
  auto dx_dq1 = on_upper_arm * upper.dx + on_forearm * (-elbow_y + fore.dx);
  auto dy_dq1 = on_upper_arm * upper.dy + on_forearm * (elbow_x + fore.dy);
  auto dx_dq2 = on_forearm * fore.dx;
  auto dy_dq2 = on_forearm * fore.dy;

  PathPoints points;
  points.position = torch::stack({px, py}, 1);
  points.velocity = torch::stack({dx_dq1 * v1 + dx_dq2 * v2, dy_dq1 * v1 + dy_dq2 * v2}, 1);
  points.jacobian = torch::stack({torch::stack({dx_dq1, dx_dq2}, 1), torch::stack({dy_dq1, dy_dq2}, 1)}, 1);
  return points;
}

std::optional<bool> TwoDofArmImpl::can_reach(const std::vector<double>& point) const {
  // Analytic inverse kinematics: both elbow solutions, each checked against the position bounds.
  if (point.size() != 2) return false;
  const double l1 = options_.l1(), l2 = options_.l2();
  const double x = point[0], y = point[1];
  const double cos_elbow = (x * x + y * y - l1 * l1 - l2 * l2) / (2.0 * l1 * l2);
  if (cos_elbow < -1.0 || cos_elbow > 1.0) return false;
  for (double sign : {1.0, -1.0}) {
    const double q2 = sign * std::acos(cos_elbow);
    double q1 = std::atan2(y, x) - std::atan2(l2 * std::sin(q2), l1 + l2 * std::cos(q2));
    // Try the equivalent angles within one turn of the bounds.
    for (double shift : {-2.0 * M_PI, 0.0, 2.0 * M_PI}) {
      const double shoulder = q1 + shift;
      const auto& b = bounds();
      if (shoulder >= b.position_lower[0] && shoulder <= b.position_upper[0] && q2 >= b.position_lower[1] &&
          q2 <= b.position_upper[1])
        return true;
    }
  }
  return false;
}

std::shared_ptr<const fused::SkeletonKernel> TwoDofArmImpl::fused_kernel() const {
  if (typeid(*this) != typeid(TwoDofArmImpl)) return nullptr;
  const auto& o = options_;
  return fused::make_two_dof_arm_kernel({o.m1(), o.m2(), o.l1(), o.l2(), o.l1g(), o.l2g(), o.i1(), o.i2(), o.viscosity()},
                                        fused_bounds());
}

}  // namespace motornet
