#pragma once
// Constant moment arms with zero musculotendon length and velocity (SPEC §6: Reacher, FreePointMass24):
// each "muscle" is a pure torque or force generator on the dofs given by its column of `moments`.

#include "motornet/body/geometry.h"

namespace motornet {

class ConstantMomentGeometryImpl : public GeometryImpl {
 public:
  // `moments` [D][M].
  explicit ConstantMomentGeometryImpl(const std::vector<std::vector<double>>& moments);

  std::string type_name() const override { return "ConstantMomentGeometry"; }
  int64_t n_muscles() const override { return static_cast<int64_t>(moment_rows_[0].size()); }
  // final: the fused kernel computes this same geometry, so a subclass cannot change it under the kernel.
  torch::Tensor forward(const torch::Tensor& joint_state) const final;
  std::shared_ptr<const fused::GeometryKernel> fused_kernel() const final;

 protected:
  void materialize() override;

 private:
  std::vector<std::vector<double>> moment_rows_;
  torch::Tensor moments_;  // [D, M]
};
TORCH_MODULE(ConstantMomentGeometry);

}  // namespace motornet
