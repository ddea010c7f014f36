#include "motornet/skeletons/point_mass.h"

#include <fmt/format.h>

#include <cmath>
#include <typeinfo>

#include "../fused/builtin_kernels.h"
#include "motornet/error.h"

namespace motornet {

namespace {
JointBounds default_bounds(int64_t space_dim) {
  // SPEC §3.1: positions in [-1, 1], velocities in [-1000, 1000].
  auto n = static_cast<size_t>(std::max<int64_t>(space_dim, 0));
  return {std::vector<double>(n, -1.0), std::vector<double>(n, 1.0), std::vector<double>(n, -1000.0),
          std::vector<double>(n, 1000.0)};
}

const PointMassOptions& validated(const PointMassOptions& options) {
  require(options.space_dim() >= 1, "space_dim", fmt::format("must be at least 1, got {}", options.space_dim()));
  require(std::isfinite(options.mass()) && options.mass() > 0, "mass",
          fmt::format("must be positive, got {}", options.mass()));
  return options;
}
}  // namespace

PointMassImpl::PointMassImpl(PointMassOptions options)
    : SkeletonImpl(validated(options).space_dim(), options.space_dim(), /*n_bodies=*/2,
                   default_bounds(options.space_dim())),
      options_(options) {}

torch::Tensor PointMassImpl::ode(const torch::Tensor& generalized_force, const torch::Tensor& joint_state,
                                 const torch::Tensor& endpoint_load) const {
  if (!endpoint_load.defined()) return generalized_force / options_.mass();
  return (generalized_force + endpoint_load) / options_.mass();
}

PathPoints PointMassImpl::path_points(const torch::Tensor& joint_state, const torch::Tensor& fixation_body,
                                      const torch::Tensor& coordinates) const {
  const int64_t S = space_dim();
  auto on_mass = (fixation_body == 1).to(joint_state.dtype());  // [N]
  auto position = joint_state.narrow(1, 0, S).unsqueeze(2);      // [B, S, 1]
  auto velocity = joint_state.narrow(1, S, S).unsqueeze(2);
  PathPoints points;
  points.position = coordinates.unsqueeze(0) + position * on_mass;
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
  if (typeid(*this) != typeid(PointMassImpl)) return nullptr;
  return fused::make_point_mass_kernel(space_dim(), options_.mass(), fused_bounds());
}

}  // namespace motornet
