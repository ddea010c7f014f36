#pragma once
// The fused PathGeometry (SPEC §4.1) of any skeleton that writes its path points as equations
// (equations/muscle_path.h): forward in double, backward by pullback over the joint state (q, q') one segment at
// a time. A skeleton makes one in its `fused_path_kernel` with its own point equations.

#include <array>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "motornet/body/equations/muscle_path.h"
#include "motornet/body/equations/pullback.h"
#include "motornet/body/fused/kernels.h"

namespace motornet::fused {

// A path point as the per-row loops read it: its body and local coordinates, in one flat record (the nested
// vectors of MusclePaths cost a pointer chase per coordinate on the hot path; W1's profile: the path kernel's
// forward took ~13% longer reading them).
template <size_t S>
struct PathPointSite {
  int64_t body = 0;
  std::array<double, S> coordinates{};
};

// `PointEquations`: a callable generic in the number type T,
//   (const PathPointSite<S>& site, const std::array<T, D>& q) -> equations::PathPoint<T, S, D, J> (J = T, or
//   double when the point's Jacobian does not depend on q).
//
// Points with constant Jacobians (J = double, a point mass) are affine in q: P(q) = P(0) + J q. Their kernel
// evaluates the point equations once per segment, here, and keeps the segment's difference vector at q = 0 and
// its Jacobian, so that a row's segment is d = d0 + dJ q followed by MusclePath::segment_of. Measured on W1
// (ReluPointMass24): evaluating both points per row made the path kernel ~1.6x the samples of the point-mass
// kernel that the generic one replaced.
template <size_t S, size_t D, class PointEquations>
class PathKernel final : public GeometryKernel {
  static constexpr int kInputs = static_cast<int>(2 * D);  // the joint state (q, q')
  using JacobianEntry = std::decay_t<decltype(std::declval<const PointEquations&>()(
      std::declval<const PathPointSite<S>&>(), std::declval<const std::array<equations::Dual<kInputs>, D>&>())
                                                  .jacobian[0][0])>;
  static constexpr bool kAffinePoints = std::is_same_v<JacobianEntry, double>;

 public:
  PathKernel(const MusclePaths& paths, PointEquations point) : n_muscles_(paths.n_muscles), point_(std::move(point)) {
    for (size_t k = 0; k < paths.segment_start.size(); ++k) {
      const int64_t start = paths.segment_start[k];
      Segment segment;
      for (int end = 0; end < 2; ++end) {
        segment.ends[end].body = paths.body[start + end];
        for (size_t s = 0; s < S; ++s) segment.ends[end].coordinates[s] = paths.coordinates[start + end][s];
      }
      segment.muscle = paths.segment_muscle[k];
      // Both ends on one rigid body: the length is constant and nothing depends on the joint state.
      segment.rigid = segment.ends[0].body == segment.ends[1].body;
      if constexpr (kAffinePoints) {
        const std::array<double, D> origin{};
        const auto start_point = point_(segment.ends[0], origin), end_point = point_(segment.ends[1], origin);
        for (size_t s = 0; s < S; ++s) {
          segment.delta_at_origin[s] = end_point.position[s] - start_point.position[s];
          for (size_t d = 0; d < D; ++d)
            segment.delta_jacobian[s][d] = end_point.jacobian[s][d] - start_point.jacobian[s][d];
        }
      }
      segments_.push_back(segment);
    }
  }

  void forward(const double* joint, double* geometry) const override { forward_segments(joint, geometry); }
  void forward_vjp(const double* joint, const double* grad_geometry, double* grad_joint) const override {
    segments_vjp(joint, grad_geometry, grad_joint);
  }

 private:
  struct Segment {
    std::array<PathPointSite<S>, 2> ends;
    int64_t muscle = 0;
    bool rigid = false;
    // Affine points only: d at q = 0 and dJ.
    std::array<double, S> delta_at_origin{};
    std::array<std::array<double, D>, S> delta_jacobian{};
  };

  template <class T>
  std::array<T, 2 + D> segment(const Segment& segment, const std::array<T, 2 * D>& joint) const {
    std::array<T, D> q, joint_velocity;
    for (size_t d = 0; d < D; ++d) {
      q[d] = joint[d];
      joint_velocity[d] = joint[D + d];
    }
    if constexpr (kAffinePoints) {
      std::array<T, S> delta;
      for (size_t s = 0; s < S; ++s) {
        delta[s] = segment.delta_at_origin[s];
        for (size_t d = 0; d < D; ++d)
          if (segment.delta_jacobian[s][d] != 0.0) delta[s] = delta[s] + segment.delta_jacobian[s][d] * q[d];
      }
      return equations::MusclePath::segment_of(delta, segment.delta_jacobian, joint_velocity);
    } else {
      return equations::MusclePath::segment(point_(segment.ends[0], q), point_(segment.ends[1], q), joint_velocity);
    }
  }

  MOTORNET_KERNEL_LOOP void forward_segments(const double* joint, double* geometry) const {
    const int64_t M = n_muscles_;
    for (int64_t i = 0; i < static_cast<int64_t>(2 + D) * M; ++i) geometry[i] = 0.0;
    std::array<double, 2 * D> x;
    for (size_t i = 0; i < 2 * D; ++i) x[i] = joint[i];
    for (const auto& k : segments_) {
      const auto g = segment(k, x);
      for (size_t i = 0; i < 2 + D; ++i) geometry[static_cast<int64_t>(i) * M + k.muscle] += g[i];
    }
  }

  MOTORNET_KERNEL_LOOP void segments_vjp(const double* joint, const double* grad_geometry, double* grad_joint) const {
    const int64_t M = n_muscles_;
    std::array<double, 2 * D> x, grad{};
    for (size_t i = 0; i < 2 * D; ++i) x[i] = joint[i];
    for (const auto& k : segments_) {
      if (k.rigid) continue;
      std::array<double, 2 + D> grad_segment;
      for (size_t i = 0; i < 2 + D; ++i) grad_segment[i] = grad_geometry[static_cast<int64_t>(i) * M + k.muscle];
      equations::pullback<kInputs>([&](const auto& input) { return segment(k, input); }, x, grad_segment.data(), 1,
                                   grad);
    }
    for (size_t i = 0; i < 2 * D; ++i) grad_joint[i] += grad[i];
  }

  int64_t n_muscles_;
  std::vector<Segment> segments_;
  PointEquations point_;
};

template <size_t S, size_t D, class PointEquations>
std::shared_ptr<const GeometryKernel> make_path_kernel(const MusclePaths& paths, PointEquations point) {
  return std::make_shared<PathKernel<S, D, PointEquations>>(paths, std::move(point));
}

}  // namespace motornet::fused
