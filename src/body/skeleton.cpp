#include "motornet/body/skeleton.h"

#include <fmt/format.h>

#include <cmath>

#include "body/fused/tensor_values.h"
#include "motornet/body/equations/joint_integration.h"
#include "motornet/core/error.h"
#include "core/replace_buffer.h"

namespace motornet {

SkeletonImpl::SkeletonImpl(int64_t dof, int64_t space_dim, int64_t n_bodies, JointBounds bounds)
    : dof_(dof), space_dim_(space_dim), n_bodies_(n_bodies) {
  register_bounds(bounds);
}

void SkeletonImpl::register_bounds(const JointBounds& bounds) {
  bounds_ = bounds;  // kept in double so that later edits do not round through float32
  auto as_tensor = [](const std::vector<double>& values) { return torch::tensor(values, torch::kFloat64); };
  const auto& options = tensor_options();
  position_lower_ = register_or_replace_buffer(*this, "position_lower_bound", as_tensor(bounds.position_lower).to(options));
  position_upper_ = register_or_replace_buffer(*this, "position_upper_bound", as_tensor(bounds.position_upper).to(options));
  velocity_lower_ = register_or_replace_buffer(*this, "velocity_lower_bound", as_tensor(bounds.velocity_lower).to(options));
  velocity_upper_ = register_or_replace_buffer(*this, "velocity_upper_bound", as_tensor(bounds.velocity_upper).to(options));
}

void SkeletonImpl::materialize() { register_bounds(bounds_); }

void SkeletonImpl::set_bounds(const std::optional<std::vector<double>>& position_lower,
                              const std::optional<std::vector<double>>& position_upper,
                              const std::optional<std::vector<double>>& velocity_lower,
                              const std::optional<std::vector<double>>& velocity_upper, const std::string& path) {
  auto per_dof = [&](const std::optional<std::vector<double>>& given, const std::vector<double>& fallback,
                     const std::string& key) {
    std::string key_path = path.empty() ? key : path + "." + key;
    if (!given) return fallback;
    const auto& values = *given;
    require(values.size() == 1 || static_cast<int64_t>(values.size()) == dof_, key_path,
            fmt::format("expected 1 value or one per degree of freedom ({}), got {}", dof_, values.size()));
    for (double value : values) require(!std::isnan(value), key_path, "bounds must not be NaN");
    return values.size() == 1 ? std::vector<double>(dof_, values[0]) : values;
  };
  JointBounds bounds{per_dof(position_lower, bounds_.position_lower, "pos_lower_bound"),
                     per_dof(position_upper, bounds_.position_upper, "pos_upper_bound"),
                     per_dof(velocity_lower, bounds_.velocity_lower, "vel_lower_bound"),
                     per_dof(velocity_upper, bounds_.velocity_upper, "vel_upper_bound")};
  for (int64_t d = 0; d < dof_; ++d) {
    require(bounds.position_lower[d] < bounds.position_upper[d], path.empty() ? "pos_lower_bound" : path + ".pos_lower_bound",
            fmt::format("lower position bound {} of dof {} is not below the upper bound {}", bounds.position_lower[d], d,
                        bounds.position_upper[d]));
    require(bounds.velocity_lower[d] < bounds.velocity_upper[d], path.empty() ? "vel_lower_bound" : path + ".vel_lower_bound",
            fmt::format("lower velocity bound {} of dof {} is not below the upper bound {}", bounds.velocity_lower[d], d,
                        bounds.velocity_upper[d]));
  }
  register_bounds(bounds);
}

torch::Tensor SkeletonImpl::integrate(double h, const torch::Tensor& acceleration, const torch::Tensor& joint_state) const {
  // SPEC §2.1, on every dof at once.
  const auto [position, velocity] = equations::integrate_joint(
      h, acceleration, joint_state.narrow(1, 0, dof_), joint_state.narrow(1, dof_, dof_), position_lower_,
      position_upper_, velocity_lower_, velocity_upper_);
  return torch::cat({position, velocity}, 1);
}

fused::SkeletonBounds SkeletonImpl::fused_bounds() const {
  return {fused::values(position_lower_), fused::values(position_upper_), fused::values(velocity_lower_),
          fused::values(velocity_upper_)};
}

}  // namespace motornet
