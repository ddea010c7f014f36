#pragma once
// Polynomial moment-arm geometry (SPEC §6, RigidTendonArm26 after Nijhof & Kouwenhoven 2000): with the joint
// angles relative to a reference posture, th = q - offset,
//   moment r_{d,m} = a1_{d,m} + 2 a2_{d,m} th_d,   length L_m = a0_m + sum_d (a1_{d,m} + a2_{d,m} th_d) th_d,
//   velocity V_m = sum_d q'_d r_{d,m}.

#include "motornet/body/geometry.h"

namespace motornet {

struct PolynomialGeometryOptions {
  TORCH_ARG(std::vector<double>, a0);                   // [M] length at the reference posture
  TORCH_ARG(std::vector<std::vector<double>>, a1);      // [D][M]
  TORCH_ARG(std::vector<std::vector<double>>, a2);      // [D][M]
  TORCH_ARG(std::vector<double>, angle_offset);         // [D] reference posture
};

class PolynomialGeometryImpl : public GeometryImpl {
 public:
  explicit PolynomialGeometryImpl(const PolynomialGeometryOptions& options);

  std::string type_name() const override { return "PolynomialGeometry"; }
  int64_t n_muscles() const override { return a0_.size(0); }
  // final: the fused kernel computes this same geometry, so a subclass cannot change it under the kernel.
  torch::Tensor forward(const torch::Tensor& joint_state) const final;
  std::shared_ptr<const fused::GeometryKernel> fused_kernel() const final;

 protected:
  void materialize() override;

 private:
  PolynomialGeometryOptions options_;
  torch::Tensor a0_, a1_, a2_, angle_offset_;  // [M], [D, M], [D, M], [D]
};
TORCH_MODULE(PolynomialGeometry);

}  // namespace motornet
