#pragma once
// Path geometry (SPEC §4): each muscle runs along straight segments between fixation points on the skeleton's
// bodies. Length, velocity and moment arms are sums over segments, i.e. the exact path-length derivatives.

#include "motornet/body/geometry.h"
#include "motornet/body/skeleton.h"

namespace motornet {

// One muscle's path: body index and local coordinates [S] of each fixation point, in order.
struct MusclePath {
  std::vector<int64_t> fixation_body;
  std::vector<std::vector<double>> coordinates;
};

class PathGeometryImpl : public GeometryImpl {
 public:
  // Validates every path against the skeleton (at least 2 points, known bodies, S coordinates each).
  // `paths_config_path[m]` (optional) names muscle m's configuration entry in error messages.
  PathGeometryImpl(Skeleton skeleton, const std::vector<MusclePath>& paths,
                   const std::vector<std::string>& paths_config_path = {});

  std::string type_name() const override { return "PathGeometry"; }
  int64_t n_muscles() const override { return n_muscles_; }
  // final: the fused kernel computes this same geometry, so a subclass cannot change it under the kernel.
  torch::Tensor forward(const torch::Tensor& joint_state) const final;
  std::shared_ptr<const fused::GeometryKernel> fused_kernel() const final;

 protected:
  void materialize() override;

 private:
  Skeleton skeleton_;
  int64_t n_muscles_;
  std::vector<std::vector<double>> coordinate_rows_;  // [S][N], float64 description
  std::vector<int64_t> segment_owner_;                 // muscle of each segment
  torch::Tensor fixation_body_;   // [N] int64: every point of every muscle, muscle after muscle
  torch::Tensor coordinates_;     // [S, N]
  torch::Tensor segment_start_;   // [n_segments] int64: point index where each segment starts
  torch::Tensor segment_muscle_;  // [n_segments, M]: 1 where the segment belongs to the muscle
};
TORCH_MODULE(PathGeometry);

}  // namespace motornet
