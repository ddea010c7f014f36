#include "motornet/geometry/polynomial_geometry.h"

#include <fmt/format.h>


#include "../fused/builtin_kernels.h"
#include "../fused/tensor_values.h"
#include "../replace_buffer.h"
#include "motornet/error.h"

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
  auto moment = a1_ + 2.0 * a2_ * theta;                                   // [B, D, M]
  auto length = a0_ + ((a1_ + a2_ * theta) * theta).sum(1);                // [B, M]
  auto velocity = (joint_velocity * moment).sum(1);                        // [B, M]
  return torch::cat({length.unsqueeze(1), velocity.unsqueeze(1), moment}, 1);
}

std::shared_ptr<const fused::GeometryKernel> PolynomialGeometryImpl::fused_kernel() const {
  return fused::make_polynomial_geometry_kernel(fused::values(a0_), fused::rows(a1_), fused::rows(a2_),
                                                fused::values(angle_offset_));
}

}  // namespace motornet
