#include "motornet/body/geometry/constant_moment_geometry.h"

#include <fmt/format.h>

#include "body/fused/tensor_values.h"
#include "core/replace_buffer.h"
#include "motornet/core/error.h"

namespace motornet {

namespace {
// Length and velocity zero, moment arms constant: nothing depends on the joint state, so no gradient flows.
class ConstantMomentGeometryKernel final : public fused::GeometryKernel {
 public:
  explicit ConstantMomentGeometryKernel(std::vector<std::vector<double>> moments) : moments_(std::move(moments)) {}

  void forward(const double*, double* geometry) const override {
    const int64_t M = static_cast<int64_t>(moments_[0].size());
    for (int64_t m = 0; m < 2 * M; ++m) geometry[m] = 0.0;
    for (size_t d = 0; d < moments_.size(); ++d)
      for (int64_t m = 0; m < M; ++m) geometry[(2 + d) * M + m] = moments_[d][m];
  }
  void forward_vjp(const double*, const double*, double*) const override {}

 private:
  std::vector<std::vector<double>> moments_;
};
}  // namespace

ConstantMomentGeometryImpl::ConstantMomentGeometryImpl(const std::vector<std::vector<double>>& moments)
    : moment_rows_(moments) {
  require(!moments.empty() && !moments[0].empty(), "moments", "expected a [dof][muscles] matrix");
  for (size_t d = 0; d < moments.size(); ++d)
    require(moments[d].size() == moments[0].size(), "moments", fmt::format("row {} has a different length", d));
  materialize();
}

void ConstantMomentGeometryImpl::materialize() {
  auto rows = torch::empty({static_cast<int64_t>(moment_rows_.size()), n_muscles()}, torch::kFloat64);
  for (size_t d = 0; d < moment_rows_.size(); ++d) rows[d] = torch::tensor(moment_rows_[d], torch::kFloat64);
  moments_ = register_or_replace_buffer(*this, "moments", rows.to(tensor_options()));
}

torch::Tensor ConstantMomentGeometryImpl::forward(const torch::Tensor& joint_state) const {
  const int64_t batch = joint_state.size(0);
  auto zero = torch::zeros({batch, 2, moments_.size(1)}, joint_state.options());
  return torch::cat({zero, moments_.unsqueeze(0).expand({batch, -1, -1})}, 1);
}

std::shared_ptr<const fused::GeometryKernel> ConstantMomentGeometryImpl::fused_kernel() const {
  return std::make_shared<ConstantMomentGeometryKernel>(fused::rows(moments_));
}

}  // namespace motornet
