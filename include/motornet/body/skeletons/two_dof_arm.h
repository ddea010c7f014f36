#pragma once
// TwoDofArm (SPEC §3.2): a planar arm with a shoulder (q1) and an elbow (q2). Bodies for path points: 0 the
// world, 1 the upper arm (origin at the shoulder), 2 the forearm (origin at the elbow). Local coordinates run
// along the bone (x) and orthogonal to it (y, rotated +90°).

#include "motornet/body/skeleton.h"
#include "motornet/core/option_table.h"

namespace motornet {

struct TwoDofArmOptions {
  TORCH_ARG(double, m1) = 1.864572;   // kg, upper arm
  TORCH_ARG(double, m2) = 1.534315;   // kg, forearm and hand
  TORCH_ARG(double, l1g) = 0.180496;  // m, shoulder to upper-arm centre of mass
  TORCH_ARG(double, l2g) = 0.181479;  // m, elbow to forearm centre of mass
  TORCH_ARG(double, i1) = 0.013193;   // kg m², upper-arm inertia about its centre of mass
  TORCH_ARG(double, i2) = 0.020062;   // kg m²
  TORCH_ARG(double, l1) = 0.309;      // m, upper-arm length
  TORCH_ARG(double, l2) = 0.26;       // m, forearm length (to the fingertip)
  TORCH_ARG(double, viscosity) = 0.0; // N m s, joint viscosity
};

// The skeleton block's keys (besides `type`), defaults and checks (core/option_table.h).
const OptionTable<TwoDofArmOptions>& two_dof_arm_option_table();

class TwoDofArmImpl : public SkeletonImpl {
 public:
  explicit TwoDofArmImpl(TwoDofArmOptions options = {});

  std::string type_name() const override { return "TwoDofArm"; }
  // The equations (final: the fused kernels run these same equations, body/equations/two_dof_arm.h).
  torch::Tensor ode(const torch::Tensor& generalized_force, const torch::Tensor& joint_state,
                    const torch::Tensor& endpoint_load) const final;
  torch::Tensor joint_to_cartesian(const torch::Tensor& joint_state) const final;
  PathPoints path_points(const torch::Tensor& joint_state, const torch::Tensor& fixation_body,
                         const torch::Tensor& coordinates) const final;
  std::optional<bool> can_reach(const std::vector<double>& point) const override;
  std::shared_ptr<const fused::SkeletonKernel> fused_kernel() const final;
  std::shared_ptr<const fused::GeometryKernel> fused_path_kernel(const fused::MusclePaths& paths) const final;

  const TwoDofArmOptions& options() const { return options_; }

 private:
  TwoDofArmOptions options_;
};
TORCH_MODULE(TwoDofArm);

}  // namespace motornet
