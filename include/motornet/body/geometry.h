#pragma once
// The Geometry interface (SPEC §1, §4): maps a joint state [B, 2D] to the geometry state [B, 2+D, M]:
// row 0 musculotendon length, row 1 musculotendon velocity, rows 2.. moment arms dL/dq_d.

#include <torch/torch.h>

#include "motornet/core/exact_module.h"
#include "motornet/body/fused/kernels.h"

#include <string>
#include <vector>

namespace motornet {

class GeometryImpl : public ExactModule {
 public:
  ~GeometryImpl() override = default;
  virtual std::string type_name() const = 0;
  virtual int64_t n_muscles() const = 0;
  virtual torch::Tensor forward(const torch::Tensor& joint_state) const = 0;
  // This geometry's fused CPU kernel with the current parameters, or nullptr (see MuscleImpl).
  virtual std::shared_ptr<const fused::GeometryKernel> fused_kernel() const { return nullptr; }
};

using Geometry = std::shared_ptr<GeometryImpl>;

}  // namespace motornet
