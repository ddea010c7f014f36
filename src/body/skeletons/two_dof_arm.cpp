#include "motornet/body/skeletons/two_dof_arm.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "body/fused/path_kernel.h"
#include "motornet/body/equations/pullback.h"
#include "motornet/body/equations/two_dof_arm.h"
#include "motornet/core/error.h"

namespace motornet {

namespace {
constexpr double kDegree = M_PI / 180.0;

const TwoDofArmOptions& validated(const TwoDofArmOptions& options) {
  two_dof_arm_option_table().check(options);
  return options;
}

// The columns of a [B, N] tensor.
template <size_t N>
std::array<torch::Tensor, N> columns(const torch::Tensor& x) {
  std::array<torch::Tensor, N> out;
  for (size_t i = 0; i < N; ++i) out[i] = x.select(1, static_cast<int64_t>(i));
  return out;
}

// The fused kernel: TwoDofArm's equations on one row, their derivatives by pullback (body/equations/pullback.h).
class TwoDofArmKernel final : public fused::SkeletonKernel {
  using Arm = equations::TwoDofArm;

 public:
  TwoDofArmKernel(TwoDofArmOptions options, fused::SkeletonBounds bounds)
      : SkeletonKernel(/*dof=*/2, /*space_dim=*/2, std::move(bounds)), o_(options) {}

  void ode(const double* torque, const double* joint, const double* endpoint_load,
           double* acceleration) const override {
    const std::array<double, 2> load = endpoint_load ? std::array{endpoint_load[0], endpoint_load[1]} : std::array{0.0, 0.0};
    const auto acc = Arm::acceleration(o_, {torque[0], torque[1]}, {joint[0], joint[1], joint[2], joint[3]},
                                       endpoint_load ? &load : nullptr);
    acceleration[0] = acc[0];
    acceleration[1] = acc[1];
  }
  void ode_vjp(const double* torque, const double* joint, const double* endpoint_load,
               const double* grad_acceleration, double* grad_torque, double* grad_joint,
               double* grad_endpoint_load) const override {
    acceleration_vjp(o_, torque, joint, endpoint_load, grad_acceleration, grad_torque, grad_joint, grad_endpoint_load);
  }
  void to_cartesian(const double* joint, double* cartesian) const override {
    const auto c = Arm::cartesian(o_, std::array{joint[0], joint[1], joint[2], joint[3]});
    std::copy(c.begin(), c.end(), cartesian);
  }
  void to_cartesian_vjp(const double* joint, const double* grad_cartesian, double* grad_joint) const override {
    cartesian_vjp(o_, joint, grad_cartesian, grad_joint);
  }

 private:
  // The one hand-derived backward left in the fused models, kept because it pays: through pullback (6 or 8 dual
  // inputs for 2 outputs) this function alone took ~6x the time of the derivation below and made W2 ~4% slower
  // than before the equations were written once (BENCHMARKS.md, "Equations written once"). The forward is still
  // Arm::acceleration; tests/fused_kernels_test.cpp checks this against autograd through the same equations.
  //
  // acc = M(q2)^-1 r with r = tau - c(q2, v) + J(q)^T F and M symmetric, so lambda = M^-1 g is the gradient of r,
  // hence of the torque, and J lambda that of the load; M's dependence on q2 adds -lambda^T (dM/dq2) acc.
  static void acceleration_vjp(const TwoDofArmOptions& o, const double* torque, const double* joint,
                               const double* endpoint_load, const double* g, double* grad_torque, double* grad_joint,
                               double* grad_endpoint_load) {
    const std::array<double, 2> load = endpoint_load ? std::array{endpoint_load[0], endpoint_load[1]} : std::array{0.0, 0.0};
    const auto acc = Arm::acceleration(o, {torque[0], torque[1]}, {joint[0], joint[1], joint[2], joint[3]},
                                       endpoint_load ? &load : nullptr);
    const double q2 = joint[1], v1 = joint[2], v2 = joint[3];
    const auto [inertia_11, inertia_12, k] = Arm::mass_coefficients(o);
    const double viscosity = o.viscosity();
    const double c2 = std::cos(q2), s2 = std::sin(q2);
    const double m11 = inertia_11 + 2.0 * k * c2, m12 = inertia_12 + k * c2, m22 = inertia_12;
    const double determinant = m11 * m22 - m12 * m12;
    const double lambda1 = (m22 * g[0] - m12 * g[1]) / determinant;
    const double lambda2 = (m11 * g[1] - m12 * g[0]) / determinant;

    grad_torque[0] += lambda1;
    grad_torque[1] += lambda2;
    // q2 through the mass matrix (dm11 = -2 k s2, dm12 = -k s2) and the velocity terms; v through the latter.
    double grad_q1 = 0.0;
    double grad_q2 = k * s2 * (2.0 * lambda1 * acc[0] + lambda1 * acc[1] + lambda2 * acc[0]) +
                     lambda1 * k * c2 * (2.0 * v1 + v2) * v2 - lambda2 * k * c2 * v1 * v1;
    grad_joint[2] += lambda1 * (2.0 * k * s2 * v2 - viscosity) - lambda2 * 2.0 * k * s2 * v1;
    grad_joint[3] += lambda1 * 2.0 * k * s2 * (v1 + v2) - lambda2 * viscosity;
    if (endpoint_load) {
      const double q1 = joint[0], fx = load[0], fy = load[1];
      const double s1 = std::sin(q1), c1 = std::cos(q1), s12 = std::sin(q1 + q2), c12 = std::cos(q1 + q2);
      const double l1 = o.l1(), l2 = o.l2();
      // J = [[-l1 s1 - l2 s12, -l2 s12], [l1 c1 + l2 c12, l2 c12]]; J^T F's derivative in q2 (either row) is h.
      const double h = -l2 * c12 * fx - l2 * s12 * fy;
      grad_q1 += lambda1 * (-l1 * c1 * fx - l1 * s1 * fy + h) + lambda2 * h;
      grad_q2 += (lambda1 + lambda2) * h;
      grad_endpoint_load[0] += (-l1 * s1 - l2 * s12) * lambda1 - l2 * s12 * lambda2;
      grad_endpoint_load[1] += (l1 * c1 + l2 * c12) * lambda1 + l2 * c12 * lambda2;
    }
    grad_joint[0] += grad_q1;
    grad_joint[1] += grad_q2;
  }
  MOTORNET_KERNEL_LOOP static void cartesian_vjp(const TwoDofArmOptions& o, const double* joint,
                                                 const double* grad_cartesian, double* grad_joint) {
    std::array<double, 4> grad{};
    equations::pullback<4>([&](const auto& x) { return Arm::cartesian(o, x); },
                           {joint[0], joint[1], joint[2], joint[3]}, grad_cartesian, 1, grad);
    for (int i = 0; i < 4; ++i) grad_joint[i] += grad[i];
  }

  TwoDofArmOptions o_;
};

}  // namespace

const OptionTable<TwoDofArmOptions>& two_dof_arm_option_table() {
  static const auto table = OptionTable<TwoDofArmOptions>()
                                .add(MOTORNET_OPTION(m1), "kg, upper arm", checks::positive())
                                .add(MOTORNET_OPTION(m2), "kg, forearm and hand", checks::positive())
                                .add(MOTORNET_OPTION(l1g), "m, shoulder to the upper arm's centre of mass",
                                     checks::non_negative())
                                .add(MOTORNET_OPTION(l2g), "m, elbow to the forearm's centre of mass",
                                     checks::non_negative())
                                .add(MOTORNET_OPTION(i1), "kg m², upper arm's inertia about its centre of mass",
                                     checks::non_negative())
                                .add(MOTORNET_OPTION(i2), "kg m², forearm's, likewise", checks::non_negative())
                                .add(MOTORNET_OPTION(l1), "m, upper arm length", checks::positive())
                                .add(MOTORNET_OPTION(l2), "m, forearm length (to the fingertip)", checks::positive())
                                .add(MOTORNET_OPTION(viscosity), "N m s, joint viscosity", checks::finite());
  return table;
}

TwoDofArmImpl::TwoDofArmImpl(TwoDofArmOptions options)
    : SkeletonImpl(/*dof=*/2, /*space_dim=*/2, /*n_bodies=*/3,
                   {{0.0, 0.0}, {140.0 * kDegree, 160.0 * kDegree}, {-1000.0, -1000.0}, {1000.0, 1000.0}}),
      options_(validated(options)) {}

torch::Tensor TwoDofArmImpl::ode(const torch::Tensor& generalized_force, const torch::Tensor& joint_state,
                                 const torch::Tensor& endpoint_load) const {
  const auto joint = columns<4>(joint_state);
  const auto load = endpoint_load.defined() ? std::optional(columns<2>(endpoint_load)) : std::nullopt;
  const auto acceleration = equations::TwoDofArm::acceleration(options_, columns<2>(generalized_force), joint,
                                                               load ? &*load : nullptr);
  return torch::stack({acceleration[0], acceleration[1]}, 1);
}

torch::Tensor TwoDofArmImpl::joint_to_cartesian(const torch::Tensor& joint_state) const {
  const auto c = equations::TwoDofArm::cartesian(options_, columns<4>(joint_state));
  return torch::stack({c[0], c[1], c[2], c[3]}, 1);
}

PathPoints TwoDofArmImpl::path_points(const torch::Tensor& joint_state, const torch::Tensor& fixation_body,
                                      const torch::Tensor& coordinates) const {
  // All points at once: the body weights and coordinates are [N] columns, the joint angles [B, 1].
  auto dtype = joint_state.dtype();
  auto on_upper_arm = (fixation_body == 1).to(dtype), on_forearm = (fixation_body == 2).to(dtype);
  auto cx = coordinates.select(0, 0), cy = coordinates.select(0, 1);
  auto q1 = joint_state.narrow(1, 0, 1), q2 = joint_state.narrow(1, 1, 1);
  auto v1 = joint_state.narrow(1, 2, 1), v2 = joint_state.narrow(1, 3, 1);
  const auto point = equations::TwoDofArm::path_point(options_, on_upper_arm, on_forearm, cx, cy, q1, q2);
  const auto& j = point.jacobian;  // [B, N] each

  PathPoints points;
  points.position = torch::stack({point.position[0], point.position[1]}, 1);
  points.velocity = torch::stack({j[0][0] * v1 + j[0][1] * v2, j[1][0] * v1 + j[1][1] * v2}, 1);
  points.jacobian = torch::stack({torch::stack({j[0][0], j[0][1]}, 1), torch::stack({j[1][0], j[1][1]}, 1)}, 1);
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
  return std::make_shared<TwoDofArmKernel>(options_, fused_bounds());
}

std::shared_ptr<const fused::GeometryKernel> TwoDofArmImpl::fused_path_kernel(const fused::MusclePaths& paths) const {
  return fused::make_path_kernel<2, 2>(paths, [o = options_](const fused::PathPointSite<2>& site, const auto& q) {
    const double on_upper_arm = site.body == 1, on_forearm = site.body == 2;
    return equations::TwoDofArm::path_point(o, on_upper_arm, on_forearm, site.coordinates[0], site.coordinates[1],
                                            q[0], q[1]);
  });
}

}  // namespace motornet
