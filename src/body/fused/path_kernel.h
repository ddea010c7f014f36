#pragma once
// The fused PathGeometry (SPEC §4.1) of any skeleton that writes its path points as equations
// (equations/muscle_path.h): forward in double, backward by pullback over the joint state (q, q') one segment at
// a time. A skeleton makes one in its `fused_path_kernel` with its own point equations.

#include <array>
#include <cmath>
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

  // Blocks of rows where the points are affine in q (their segments need no point equations per row).
  bool has_row_lanes() const override { return kAffinePoints; }
  void forward(const RowLanes* joint, RowLanes* geometry) const override {
    if constexpr (kAffinePoints) forward_segments(joint, geometry);
    else GeometryKernel::forward(joint, geometry);
  }
  void forward_vjp(const RowLanes* joint, const RowLanes* grad_geometry, RowLanes* grad_joint) const override {
    if constexpr (kAffinePoints) segments_vjp(joint, grad_geometry, grad_joint);
    else GeometryKernel::forward_vjp(joint, grad_geometry, grad_joint);
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

  // V: double (one row) or RowLanes (a block of rows).
  template <class V>
  MOTORNET_KERNEL_LOOP void forward_segments(const V* joint, V* geometry) const {
    const int64_t M = n_muscles_;
    for (int64_t i = 0; i < static_cast<int64_t>(2 + D) * M; ++i) geometry[i] = 0.0;
    std::array<V, 2 * D> x;
    for (size_t i = 0; i < 2 * D; ++i) x[i] = joint[i];
    for (const auto& k : segments_) {
      const auto g = segment(k, x);
      for (size_t i = 0; i < 2 + D; ++i) geometry[static_cast<int64_t>(i) * M + k.muscle] += g[i];
    }
  }

  template <class V>
  MOTORNET_KERNEL_LOOP void segments_vjp(const V* joint, const V* grad_geometry, V* grad_joint) const {
    const int64_t M = n_muscles_;
    std::array<V, 2 * D> x, grad{};
    for (size_t i = 0; i < 2 * D; ++i) x[i] = joint[i];
    for (const auto& k : segments_) {
      if (k.rigid) continue;
      std::array<V, 2 + D> grad_segment;
      for (size_t i = 0; i < 2 + D; ++i) grad_segment[i] = grad_geometry[static_cast<int64_t>(i) * M + k.muscle];
      if constexpr (kAffinePoints) {
        affine_segment_vjp(k, x, grad_segment, grad);
      } else {
        equations::pullback<kInputs>([&](const auto& input) { return segment(k, input); }, x, grad_segment.data(),
                                     1, grad);
      }
    }
    for (size_t i = 0; i < 2 * D; ++i) grad_joint[i] += grad[i];
  }

  // The pullback of an affine segment (d = d0 + dJ q, dJ constant) through MusclePath::segment_of, written out:
  // with L = |d|, u = d / L, a = dJ q', V = d.a / L and M_k = d.dJ_k / L,
  //   dL/dd = u,  dV/dd = (a - V u) / L,  dM_k/dd = (dJ_k - M_k u) / L,  dV/dq' = dJ^T u,  dd/dq = dJ.
  // Kept by hand because it pays (the one place in the path kernels): on W1 the dual-number pullback of this
  // segment took twice the samples of the forward (perf, 400 batches: 3.2% of the batch against 1.6% for the
  // point-mass kernel it replaced), which made W1 ~2% slower than the hand-derived kernels before the equations
  // were written once. The fused-vs-op-by-op gradient tests hold it to the tensor path.
  template <class V>
  void affine_segment_vjp(const Segment& k, const std::array<V, 2 * D>& x, const std::array<V, 2 + D>& grad_segment,
                          std::array<V, 2 * D>& grad) const {
    using std::sqrt;
    std::array<V, S> delta, a;
    V squared = 0.0;
    for (size_t s = 0; s < S; ++s) {
      delta[s] = k.delta_at_origin[s];
      a[s] = 0.0;
      for (size_t d = 0; d < D; ++d) {
        delta[s] += k.delta_jacobian[s][d] * x[d];
        a[s] += k.delta_jacobian[s][d] * x[D + d];
      }
      squared += delta[s] * delta[s];
    }
    const V inverse_length = 1.0 / sqrt(squared);
    std::array<V, S> unit;
    V velocity = 0.0;
    for (size_t s = 0; s < S; ++s) {
      unit[s] = delta[s] * inverse_length;
      velocity += unit[s] * a[s];
    }
    std::array<V, D> moment{};
    for (size_t d = 0; d < D; ++d)
      for (size_t s = 0; s < S; ++s) moment[d] += unit[s] * k.delta_jacobian[s][d];
    const V g_length = grad_segment[0], g_velocity = grad_segment[1];
    V g_moment_dot_moment = 0.0;  // sum_k gM_k M_k
    for (size_t d = 0; d < D; ++d) g_moment_dot_moment += grad_segment[2 + d] * moment[d];
    for (size_t s = 0; s < S; ++s) {
      V g_moment_dj = 0.0;  // sum_k gM_k dJ[s][k]
      for (size_t d = 0; d < D; ++d) g_moment_dj += grad_segment[2 + d] * k.delta_jacobian[s][d];
      const V g_delta = g_length * unit[s] + g_velocity * (a[s] - velocity * unit[s]) * inverse_length +
                             (g_moment_dj - g_moment_dot_moment * unit[s]) * inverse_length;
      for (size_t d = 0; d < D; ++d) {
        grad[d] += k.delta_jacobian[s][d] * g_delta;
        grad[D + d] += g_velocity * k.delta_jacobian[s][d] * unit[s];
      }
    }
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
