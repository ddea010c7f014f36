#pragma once
// The Skeleton interface (SPEC §2.1, §3): rigid-body dynamics in joint space, the endpoint ("fingertip")
// kinematics and the world position of points fixed on its bodies (for muscle paths). Joint states are
// [B, 2D] (positions then velocities); cartesian states [B, 2S].
//
// Integration and position/velocity bounds are the same for every skeleton and live in this base class; a
// skeleton provides its dynamics (`ode`), its kinematics and its default bounds.

#include <torch/torch.h>

#include "motornet/core/exact_module.h"
#include "motornet/body/fused/kernels.h"

#include <optional>
#include <string>
#include <vector>

namespace motornet {

// World positions, velocities and joint Jacobians of N points fixed on bodies.
struct PathPoints {
  torch::Tensor position;  // [B, S, N]
  torch::Tensor velocity;  // [B, S, N]
  torch::Tensor jacobian;  // [B, S, D, N]: dP/dq
};

// Position and velocity limits, one value per dof.
struct JointBounds {
  std::vector<double> position_lower, position_upper, velocity_lower, velocity_upper;
};

class SkeletonImpl : public ExactModule {
 public:
  SkeletonImpl(int64_t dof, int64_t space_dim, int64_t n_bodies, JointBounds bounds);
  ~SkeletonImpl() override = default;

  virtual std::string type_name() const = 0;
  int64_t dof() const { return dof_; }
  int64_t space_dim() const { return space_dim_; }
  // Bodies that path points may be fixed on; body 0 is the world.
  int64_t n_bodies() const { return n_bodies_; }

  // Joint accelerations [B, D] from generalized forces tau [B, D], the joint state and an endpoint force [B, S]
  // (undefined: no endpoint force).
  virtual torch::Tensor ode(const torch::Tensor& generalized_force, const torch::Tensor& joint_state,
                            const torch::Tensor& endpoint_load) const = 0;
  virtual torch::Tensor joint_to_cartesian(const torch::Tensor& joint_state) const = 0;
  // `fixation_body` [N] (int64) and `coordinates` [S, N] in each body's local frame.
  virtual PathPoints path_points(const torch::Tensor& joint_state, const torch::Tensor& fixation_body,
                                 const torch::Tensor& coordinates) const = 0;

  // Whether the fingertip can be placed at `point` [S] within the position bounds; nullopt when the skeleton
  // cannot tell (no inverse kinematics).
  virtual std::optional<bool> can_reach(const std::vector<double>& point) const { return std::nullopt; }
  // This skeleton's fused CPU kernel with the current parameters and bounds, or nullptr (see MuscleImpl).
  virtual std::shared_ptr<const fused::SkeletonKernel> fused_kernel() const { return nullptr; }
  // A fused kernel for straight muscle paths between points fixed on this skeleton's bodies (what PathGeometry
  // asks its skeleton for), or nullptr: the paths are then computed op by op from `path_points`.
  virtual std::shared_ptr<const fused::GeometryKernel> fused_path_kernel(const fused::MusclePaths& paths) const {
    return nullptr;
  }

  // SPEC §2.1: semi-implicit step of size h from accelerations [B, D], then the bounds.
  torch::Tensor integrate(double h, const torch::Tensor& acceleration, const torch::Tensor& joint_state) const;

  // Replaces some bounds; each vector holds one value (for every dof) or D values. `path` prefixes errors.
  void set_bounds(const std::optional<std::vector<double>>& position_lower,
                  const std::optional<std::vector<double>>& position_upper,
                  const std::optional<std::vector<double>>& velocity_lower,
                  const std::optional<std::vector<double>>& velocity_upper, const std::string& path = "");
  const JointBounds& bounds() const { return bounds_; }
  const torch::Tensor& position_lower_bound() const { return position_lower_; }
  const torch::Tensor& position_upper_bound() const { return position_upper_; }
  const torch::Tensor& velocity_lower_bound() const { return velocity_lower_; }
  const torch::Tensor& velocity_upper_bound() const { return velocity_upper_; }

 protected:
  // The current bounds, for a fused kernel.
  fused::SkeletonBounds fused_bounds() const;
  void materialize() override;

 private:
  void register_bounds(const JointBounds& bounds);

  int64_t dof_, space_dim_, n_bodies_;
  JointBounds bounds_;
  torch::Tensor position_lower_, position_upper_, velocity_lower_, velocity_upper_;  // [D] each
};

using Skeleton = std::shared_ptr<SkeletonImpl>;

}  // namespace motornet
