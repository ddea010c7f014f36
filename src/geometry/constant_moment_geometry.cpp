#include "motornet/geometry/constant_moment_geometry.h"

#include <fmt/format.h>


#include "../fused/builtin_kernels.h"
#include "../fused/tensor_values.h"
#include "../replace_buffer.h"
#include "motornet/error.h"

namespace motornet {

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
  return fused::make_constant_moment_geometry_kernel(fused::rows(moments_));
}

}  // namespace motornet
