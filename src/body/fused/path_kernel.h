#pragma once
// The fused PathGeometry (SPEC §4.1) of any skeleton that writes its path points as equations
// (equations/muscle_path.h): forward in double, backward by pullback over the joint state (q, q') one segment at
// a time. A skeleton makes one in its `fused_path_kernel` with its own point equations.

#include <array>
#include <cstddef>
#include <memory>
#include <utility>

#include "motornet/body/equations/muscle_path.h"
#include "motornet/body/equations/pullback.h"
#include "motornet/body/fused/kernels.h"

namespace motornet::fused {

// `PointEquations`: a callable generic in the number type T,
//   (const MusclePaths& paths, int64_t point, const std::array<T, D>& q) -> equations::PathPoint<T, S, D>.
template <size_t S, size_t D, class PointEquations>
class PathKernel final : public GeometryKernel {
  static constexpr int kInputs = static_cast<int>(2 * D);  // the joint state (q, q')

 public:
  PathKernel(MusclePaths paths, PointEquations point) : paths_(std::move(paths)), point_(std::move(point)) {}

  void forward(const double* joint, double* geometry) const override { forward_segments(joint, geometry); }
  void forward_vjp(const double* joint, const double* grad_geometry, double* grad_joint) const override {
    segments_vjp(joint, grad_geometry, grad_joint);
  }

 private:
  template <class T>
  std::array<T, 2 + D> segment(size_t k, const std::array<T, 2 * D>& joint) const {
    std::array<T, D> q, joint_velocity;
    for (size_t d = 0; d < D; ++d) {
      q[d] = joint[d];
      joint_velocity[d] = joint[D + d];
    }
    const int64_t start = paths_.segment_start[k];
    return equations::MusclePath::segment(point_(paths_, start, q), point_(paths_, start + 1, q), joint_velocity);
  }

  MOTORNET_KERNEL_LOOP void forward_segments(const double* joint, double* geometry) const {
    const int64_t M = paths_.n_muscles;
    for (int64_t i = 0; i < static_cast<int64_t>(2 + D) * M; ++i) geometry[i] = 0.0;
    std::array<double, 2 * D> x;
    for (size_t i = 0; i < 2 * D; ++i) x[i] = joint[i];
    for (size_t k = 0; k < paths_.segment_start.size(); ++k) {
      const auto g = segment(k, x);
      const int64_t m = paths_.segment_muscle[k];
      for (size_t i = 0; i < 2 + D; ++i) geometry[static_cast<int64_t>(i) * M + m] += g[i];
    }
  }

  MOTORNET_KERNEL_LOOP void segments_vjp(const double* joint, const double* grad_geometry, double* grad_joint) const {
    const int64_t M = paths_.n_muscles;
    std::array<double, 2 * D> x, grad{};
    for (size_t i = 0; i < 2 * D; ++i) x[i] = joint[i];
    for (size_t k = 0; k < paths_.segment_start.size(); ++k) {
      const int64_t start = paths_.segment_start[k];
      // Both ends on one rigid body: the length is constant and nothing depends on the joint state.
      if (paths_.body[start] == paths_.body[start + 1]) continue;
      const int64_t m = paths_.segment_muscle[k];
      std::array<double, 2 + D> grad_segment;
      for (size_t i = 0; i < 2 + D; ++i) grad_segment[i] = grad_geometry[static_cast<int64_t>(i) * M + m];
      equations::pullback<kInputs>([&](const auto& input) { return segment(k, input); }, x, grad_segment.data(), 1,
                                   grad);
    }
    for (size_t i = 0; i < 2 * D; ++i) grad_joint[i] += grad[i];
  }

  MusclePaths paths_;
  PointEquations point_;
};

template <size_t S, size_t D, class PointEquations>
std::shared_ptr<const GeometryKernel> make_path_kernel(MusclePaths paths, PointEquations point) {
  return std::make_shared<PathKernel<S, D, PointEquations>>(std::move(paths), std::move(point));
}

}  // namespace motornet::fused
