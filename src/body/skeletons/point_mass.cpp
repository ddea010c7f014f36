#include "motornet/body/skeletons/point_mass.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "body/fused/path_kernel.h"
#include "motornet/body/equations/point_mass.h"
#include "motornet/body/equations/pullback.h"
#include "motornet/core/error.h"

namespace motornet {

namespace {
JointBounds default_bounds(int64_t space_dim) {
  // SPEC §3.1: positions in [-1, 1], velocities in [-1000, 1000].
  auto n = static_cast<size_t>(std::max<int64_t>(space_dim, 0));
  return {std::vector<double>(n, -1.0), std::vector<double>(n, 1.0), std::vector<double>(n, -1000.0),
          std::vector<double>(n, 1000.0)};
}

// The fused kernel: PointMass's equations per dof, their derivatives by pullback (body/equations/pullback.h).
class PointMassKernel final : public fused::SkeletonKernel {
 public:
  PointMassKernel(int64_t space_dim, double mass, fused::SkeletonBounds bounds)
      : SkeletonKernel(space_dim, space_dim, std::move(bounds)), mass_(mass) {}

  void ode(const double* torque, const double* joint, const double* endpoint_load,
           double* acceleration) const override {
    accelerations(torque, endpoint_load, acceleration);
  }
  void ode_vjp(const double* torque, const double* joint, const double* endpoint_load,
               const double* grad_acceleration, double* grad_torque, double* grad_joint,
               double* grad_endpoint_load) const override {
    accelerations_vjp(torque, endpoint_load, grad_acceleration, grad_torque, grad_endpoint_load);
  }
  // The cartesian state is the joint state.
  void to_cartesian(const double* joint, double* cartesian) const override {
    std::copy(joint, joint + 2 * dof(), cartesian);
  }
  void to_cartesian_vjp(const double* joint, const double* grad_cartesian, double* grad_joint) const override {
    for (int64_t i = 0; i < 2 * dof(); ++i) grad_joint[i] += grad_cartesian[i];
  }

  // Blocks of rows: the same equations on RowLanes.
  bool has_row_lanes() const override { return true; }
  void ode(const fused::RowLanes* torque, const fused::RowLanes* joint, const fused::RowLanes* endpoint_load,
           fused::RowLanes* acceleration) const override {
    accelerations(torque, endpoint_load, acceleration);
  }
  void ode_vjp(const fused::RowLanes* torque, const fused::RowLanes* joint, const fused::RowLanes* endpoint_load,
               const fused::RowLanes* grad_acceleration, fused::RowLanes* grad_torque, fused::RowLanes* grad_joint,
               fused::RowLanes* grad_endpoint_load) const override {
    accelerations_vjp(torque, endpoint_load, grad_acceleration, grad_torque, grad_endpoint_load);
  }
  void to_cartesian(const fused::RowLanes* joint, fused::RowLanes* cartesian) const override {
    std::copy(joint, joint + 2 * dof(), cartesian);
  }
  void to_cartesian_vjp(const fused::RowLanes* joint, const fused::RowLanes* grad_cartesian,
                        fused::RowLanes* grad_joint) const override {
    for (int64_t i = 0; i < 2 * dof(); ++i) grad_joint[i] += grad_cartesian[i];
  }

 private:
  template <class V>
  void accelerations(const V* torque, const V* endpoint_load, V* acceleration) const {
    using equations::PointMass;
    for (int64_t d = 0; d < dof(); ++d)
      acceleration[d] = endpoint_load ? PointMass::acceleration(mass_, torque[d], endpoint_load[d])
                                      : PointMass::acceleration(mass_, torque[d]);
  }
  template <class V>
  void accelerations_vjp(const V* torque, const V* endpoint_load, const V* grad_acceleration, V* grad_torque,
                         V* grad_endpoint_load) const {
    using equations::PointMass;
    for (int64_t d = 0; d < dof(); ++d) {
      if (endpoint_load) {
        std::array<V, 2> grad{};
        equations::pullback<2>([&](const auto& x) { return std::array{PointMass::acceleration(mass_, x[0], x[1])}; },
                               {torque[d], endpoint_load[d]}, grad_acceleration + d, 1, grad);
        grad_torque[d] += grad[0];
        grad_endpoint_load[d] += grad[1];
      } else {
        std::array<V, 1> grad{};
        equations::pullback<1>([&](const auto& x) { return std::array{PointMass::acceleration(mass_, x[0])}; },
                               {torque[d]}, grad_acceleration + d, 1, grad);
        grad_torque[d] += grad[0];
      }
    }
  }

  double mass_;
};

const PointMassOptions& validated(const PointMassOptions& options) {
  point_mass_option_table().check(options);
  return options;
}
}  // namespace

const OptionTable<PointMassOptions>& point_mass_option_table() {
  static const auto table = OptionTable<PointMassOptions>()
                                .add(MOTORNET_OPTION(space_dim), "dimensions it moves in", checks::at_least(1))
                                .add(MOTORNET_OPTION(mass), "kg", checks::positive());
  return table;
}

PointMassImpl::PointMassImpl(PointMassOptions options)
    : SkeletonImpl(validated(options).space_dim(), options.space_dim(), /*n_bodies=*/2,
                   default_bounds(options.space_dim())),
      options_(options) {}

torch::Tensor PointMassImpl::ode(const torch::Tensor& generalized_force, const torch::Tensor& joint_state,
                                 const torch::Tensor& endpoint_load) const {
  using equations::PointMass;
  if (!endpoint_load.defined()) return PointMass::acceleration(options_.mass(), generalized_force);
  return PointMass::acceleration(options_.mass(), generalized_force, endpoint_load);
}

PathPoints PointMassImpl::path_points(const torch::Tensor& joint_state, const torch::Tensor& fixation_body,
                                      const torch::Tensor& coordinates) const {
  const int64_t S = space_dim();
  auto on_mass = (fixation_body == 1).to(joint_state.dtype());  // [N]
  auto position = joint_state.narrow(1, 0, S).unsqueeze(2);      // [B, S, 1]
  auto velocity = joint_state.narrow(1, S, S).unsqueeze(2);
  PathPoints points;
  points.position = equations::PointMass::path_point(coordinates.unsqueeze(0), on_mass, position);
  points.velocity = velocity * on_mass;
  auto identity = torch::eye(S, joint_state.options()).unsqueeze(2);  // [S, D, 1]
  points.jacobian = (identity * on_mass).unsqueeze(0).expand({joint_state.size(0), S, S, on_mass.size(0)});
  return points;
}

std::optional<bool> PointMassImpl::can_reach(const std::vector<double>& point) const {
  if (static_cast<int64_t>(point.size()) != space_dim()) return false;
  for (int64_t d = 0; d < space_dim(); ++d)
    if (point[d] < bounds().position_lower[d] || point[d] > bounds().position_upper[d]) return false;
  return true;
}

std::shared_ptr<const fused::SkeletonKernel> PointMassImpl::fused_kernel() const {
  return std::make_shared<PointMassKernel>(space_dim(), options_.mass(), fused_bounds());
}

namespace {
// Path points on a point mass in S dimensions: c + on_mass p, with Jacobian on_mass times the identity.
template <size_t S>
std::shared_ptr<const fused::GeometryKernel> point_mass_path_kernel(const fused::MusclePaths& paths) {
  return fused::make_path_kernel<S, S>(paths, [](const fused::PathPointSite<S>& site, const auto& q) {
    using T = std::decay_t<decltype(q[0])>;
    const double on_mass = site.body == 1;
    equations::PathPoint<T, S, S, double> point;  // the Jacobian is 0 or the identity, whatever q
    for (size_t s = 0; s < S; ++s) {
      point.position[s] = equations::PointMass::path_point(site.coordinates[s], on_mass, q[s]);
      for (size_t d = 0; d < S; ++d) point.jacobian[s][d] = s == d ? on_mass : 0.0;
    }
    return point;
  });
}
}  // namespace

std::shared_ptr<const fused::GeometryKernel> PointMassImpl::fused_path_kernel(const fused::MusclePaths& paths) const {
  switch (space_dim()) {  // the fused kernel's arrays have a fixed size; other dimensions go op by op
    case 1: return point_mass_path_kernel<1>(paths);
    case 2: return point_mass_path_kernel<2>(paths);
    case 3: return point_mass_path_kernel<3>(paths);
    default: return nullptr;
  }
}

}  // namespace motornet
