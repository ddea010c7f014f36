// Fused PolynomialGeometry (SPEC §4.2): L = a0 + sum_d (a1 + a2 th) th, moment = a1 + 2 a2 th,
// L' = sum_d q'_d moment_d, th = q - offset.
#include "builtin_kernels.h"

namespace motornet::fused {
namespace {

class PolynomialGeometryKernel final : public GeometryKernel {
 public:
  PolynomialGeometryKernel(std::vector<double> a0, std::vector<std::vector<double>> a1,
                           std::vector<std::vector<double>> a2, std::vector<double> angle_offset)
      : a0_(std::move(a0)), a1_(std::move(a1)), a2_(std::move(a2)), offset_(std::move(angle_offset)) {}

  void forward(const double* joint, double* geometry) const override {
    const int64_t D = dof(), M = n_muscles();
    for (int64_t m = 0; m < M; ++m) {
      double length = 0.0, velocity = 0.0;
      for (int64_t d = 0; d < D; ++d) {
        const double theta = joint[d] - offset_[d];
        const double moment = a1_[d][m] + 2.0 * a2_[d][m] * theta;
        length += (a1_[d][m] + a2_[d][m] * theta) * theta;
        velocity += joint[D + d] * moment;
        geometry[(2 + d) * M + m] = moment;
      }
      geometry[m] = a0_[m] + length;
      geometry[M + m] = velocity;
    }
  }

  void forward_vjp(const double* joint, const double* grad_geometry, double* grad_joint) const override {
    const int64_t D = dof(), M = n_muscles();
    for (int64_t d = 0; d < D; ++d) {
      const double theta = joint[d] - offset_[d];
      double grad_theta = 0.0, grad_velocity = 0.0;
      for (int64_t m = 0; m < M; ++m) {
        const double moment = a1_[d][m] + 2.0 * a2_[d][m] * theta;
        const double grad_moment = grad_geometry[(2 + d) * M + m] + grad_geometry[M + m] * joint[D + d];
        grad_theta += grad_geometry[m] * moment + grad_moment * 2.0 * a2_[d][m];
        grad_velocity += grad_geometry[M + m] * moment;
      }
      grad_joint[d] += grad_theta;
      grad_joint[D + d] += grad_velocity;
    }
  }

 private:
  int64_t dof() const { return static_cast<int64_t>(offset_.size()); }
  int64_t n_muscles() const { return static_cast<int64_t>(a0_.size()); }
  std::vector<double> a0_;
  std::vector<std::vector<double>> a1_, a2_;
  std::vector<double> offset_;
};

// Length and velocity zero, moment arms constant: no dependence on the joint state.
class ConstantMomentGeometryKernel final : public GeometryKernel {
 public:
  explicit ConstantMomentGeometryKernel(std::vector<std::vector<double>> moments) : moments_(std::move(moments)) {}

  void forward(const double* joint, double* geometry) const override {
    const int64_t M = moments_.empty() ? 0 : static_cast<int64_t>(moments_[0].size());
    for (int64_t m = 0; m < 2 * M; ++m) geometry[m] = 0.0;
    for (size_t d = 0; d < moments_.size(); ++d)
      for (int64_t m = 0; m < M; ++m) geometry[(2 + d) * M + m] = moments_[d][m];
  }

  void forward_vjp(const double* joint, const double* grad_geometry, double* grad_joint) const override {}

 private:
  std::vector<std::vector<double>> moments_;
};

}  // namespace

std::shared_ptr<const GeometryKernel> make_polynomial_geometry_kernel(std::vector<double> a0,
                                                                      std::vector<std::vector<double>> a1,
                                                                      std::vector<std::vector<double>> a2,
                                                                      std::vector<double> angle_offset) {
  return std::make_shared<PolynomialGeometryKernel>(std::move(a0), std::move(a1), std::move(a2),
                                                    std::move(angle_offset));
}

std::shared_ptr<const GeometryKernel> make_constant_moment_geometry_kernel(std::vector<std::vector<double>> moments) {
  return std::make_shared<ConstantMomentGeometryKernel>(std::move(moments));
}

}  // namespace motornet::fused
