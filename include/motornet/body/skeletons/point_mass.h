#pragma once
// PointMass (SPEC §3.1): a mass moving freely in `space_dim` dimensions; joint space is cartesian space.
// Path points fixed on body 1 move with the mass; body 0 is the world.

#include "motornet/body/skeleton.h"
#include "motornet/core/option_table.h"

namespace motornet {

struct PointMassOptions {
  TORCH_ARG(int64_t, space_dim) = 2;
  TORCH_ARG(double, mass) = 1.0;  // kg
};

// The skeleton block's keys (besides `type`), defaults and checks (core/option_table.h).
const OptionTable<PointMassOptions>& point_mass_option_table();

class PointMassImpl : public SkeletonImpl {
 public:
  explicit PointMassImpl(PointMassOptions options = {});

  std::string type_name() const override { return "PointMass"; }
  // The equations (final: the fused kernels run these same equations, body/equations/point_mass.h).
  torch::Tensor ode(const torch::Tensor& generalized_force, const torch::Tensor& joint_state,
                    const torch::Tensor& endpoint_load) const final;
  torch::Tensor joint_to_cartesian(const torch::Tensor& joint_state) const final { return joint_state; }
  PathPoints path_points(const torch::Tensor& joint_state, const torch::Tensor& fixation_body,
                         const torch::Tensor& coordinates) const final;
  std::optional<bool> can_reach(const std::vector<double>& point) const override;
  std::shared_ptr<const fused::SkeletonKernel> fused_kernel() const final;
  std::shared_ptr<const fused::GeometryKernel> fused_path_kernel(const fused::MusclePaths& paths) const final;

  const PointMassOptions& options() const { return options_; }

 private:
  PointMassOptions options_;
};
TORCH_MODULE(PointMass);

}  // namespace motornet
