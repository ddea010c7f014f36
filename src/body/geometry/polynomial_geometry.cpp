#include "motornet/body/geometry/polynomial_geometry.h"

#include <fmt/format.h>

#include <array>

#include "motornet/body/equations/polynomial_geometry.h"
#include "motornet/body/equations/pullback.h"
#include "body/fused/tensor_values.h"
#include "core/replace_buffer.h"
#include "motornet/core/error.h"

namespace motornet {

namespace {
torch::Tensor matrix(const std::vector<std::vector<double>>& rows, size_t columns, const char* name) {
  auto result = torch::empty({static_cast<int64_t>(rows.size()), static_cast<int64_t>(columns)}, torch::kFloat64);
  for (size_t d = 0; d < rows.size(); ++d) {
    require(rows[d].size() == columns, name, fmt::format("row {} has {} values, expected {}", d, rows[d].size(), columns));
    result[d] = torch::tensor(rows[d], torch::kFloat64);
  }
  return result;
}

// The fused kernel: the equations on one row, each dof of each muscle on its own (th, q') pair, their
// derivatives by pullback.
class PolynomialGeometryKernel final : public fused::GeometryKernel {
  using Equations = equations::PolynomialGeometry;

 public:
  PolynomialGeometryKernel(std::vector<double> a0, std::vector<std::vector<double>> a1,
                           std::vector<std::vector<double>> a2, std::vector<double> angle_offset)
      : a0_(std::move(a0)), a1_(std::move(a1)), a2_(std::move(a2)), offset_(std::move(angle_offset)) {}

  void forward(const double* joint, double* geometry) const override {
    const int64_t D = dof(), M = n_muscles();
    for (int64_t m = 0; m < M; ++m) {
      double length = 0.0, velocity = 0.0;
      for (int64_t d = 0; d < D; ++d) {
        const auto terms = Equations::dof_terms(a1_[d][m], a2_[d][m], joint[d] - offset_[d], joint[D + d]);
        length += terms[0];
        velocity += terms[1];
        geometry[(2 + d) * M + m] = terms[2];
      }
      geometry[m] = a0_[m] + length;
      geometry[M + m] = velocity;
    }
  }

  void forward_vjp(const double* joint, const double* grad_geometry, double* grad_joint) const override {
    dof_terms_vjp(joint, grad_geometry, grad_joint);
  }

 private:
  MOTORNET_KERNEL_LOOP void dof_terms_vjp(const double* joint, const double* grad_geometry, double* grad_joint) const {
    const int64_t D = dof(), M = n_muscles();
    for (int64_t d = 0; d < D; ++d) {
      std::array<double, 2> grad{};  // th (= q - offset) and q'
      for (int64_t m = 0; m < M; ++m) {
        const double grad_terms[3] = {grad_geometry[m], grad_geometry[M + m], grad_geometry[(2 + d) * M + m]};
        equations::pullback<2>(
            [&](const auto& x) { return Equations::dof_terms(a1_[d][m], a2_[d][m], x[0], x[1]); },
            {joint[d] - offset_[d], joint[D + d]}, grad_terms, 1, grad);
      }
      grad_joint[d] += grad[0];
      grad_joint[D + d] += grad[1];
    }
  }
  int64_t dof() const { return static_cast<int64_t>(offset_.size()); }
  int64_t n_muscles() const { return static_cast<int64_t>(a0_.size()); }
  std::vector<double> a0_;
  std::vector<std::vector<double>> a1_, a2_;
  std::vector<double> offset_;
};
}  // namespace

PolynomialGeometryImpl::PolynomialGeometryImpl(const PolynomialGeometryOptions& options) : options_(options) {
  const size_t dof = options.angle_offset().size();
  require(options.a1().size() == dof, "a1", "expected one row per degree of freedom");
  require(options.a2().size() == dof, "a2", "expected one row per degree of freedom");
  materialize();
}

void PolynomialGeometryImpl::materialize() {
  const auto& o = options_;
  const size_t n_muscles = o.a0().size();
  a0_ = register_or_replace_buffer(*this, "a0", torch::tensor(o.a0(), torch::kFloat64).to(tensor_options()));
  a1_ = register_or_replace_buffer(*this, "a1", matrix(o.a1(), n_muscles, "a1").to(tensor_options()));
  a2_ = register_or_replace_buffer(*this, "a2", matrix(o.a2(), n_muscles, "a2").to(tensor_options()));
  angle_offset_ = register_or_replace_buffer(*this, "angle_offset",
                                             torch::tensor(o.angle_offset(), torch::kFloat64).to(tensor_options()));
}

torch::Tensor PolynomialGeometryImpl::forward(const torch::Tensor& joint_state) const {
  const int64_t D = angle_offset_.size(0);
  auto theta = (joint_state.narrow(1, 0, D) - angle_offset_).unsqueeze(2);  // [B, D, 1]
  auto joint_velocity = joint_state.narrow(1, D, D).unsqueeze(2);
  const auto terms = equations::PolynomialGeometry::dof_terms(a1_, a2_, theta, joint_velocity);  // [B, D, M] each
  auto length = a0_ + terms[0].sum(1);                                                           // [B, M]
  auto velocity = terms[1].sum(1);
  return torch::cat({length.unsqueeze(1), velocity.unsqueeze(1), terms[2]}, 1);
}

std::shared_ptr<const fused::GeometryKernel> PolynomialGeometryImpl::fused_kernel() const {
  return std::make_shared<PolynomialGeometryKernel>(fused::values(a0_), fused::rows(a1_), fused::rows(a2_),
                                                    fused::values(angle_offset_));
}

}  // namespace motornet
