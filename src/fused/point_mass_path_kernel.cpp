// Fused PathGeometry on a PointMass (SPEC §4.1). A point on the mass moves with it and one on the world stays,
// so a segment's vector is d = c_end - c_start + w p with w = on_mass(end) - on_mass(start) in {-1, 0, 1}:
// length |d|, velocity w d.p'/|d|, moment arm on dof s w d_s/|d|; segments summed into their muscle.
#include <cmath>
#include <vector>

#include "builtin_kernels.h"

namespace motornet::fused {
namespace {

class PointMassPathKernel final : public GeometryKernel {
 public:
  static constexpr int64_t kMaxSpace = 3;

  // Each segment's constants (offset c_end - c_start, w, muscle) are taken once, flat, so the per-row loops
  // touch no nested vectors; segments whose ends lie on one body have constant length and no moment arm.
  PointMassPathKernel(int64_t space_dim, const MusclePaths& path) : S_(space_dim), M_(path.n_muscles) {
    for (size_t k = 0; k < path.segment_start.size(); ++k) {
      const int64_t start = path.segment_start[k], end = start + 1;
      Segment segment;
      segment.w = static_cast<double>(path.body[end] == 1) - static_cast<double>(path.body[start] == 1);
      segment.muscle = path.segment_muscle[k];
      for (int64_t s = 0; s < S_; ++s) segment.offset[s] = path.coordinates[end][s] - path.coordinates[start][s];
      segments_.push_back(segment);
    }
  }

  void forward(const double* joint, double* geometry) const override {
    const int64_t S = S_, M = M_;
    for (int64_t i = 0; i < (2 + S) * M; ++i) geometry[i] = 0.0;
    double delta[kMaxSpace];
    for (const auto& segment : segments_) {
      const double w = segment.w, length = vector_of(segment, joint, delta), inverse_length = 1.0 / length;
      double dot = 0.0;
      for (int64_t s = 0; s < S; ++s) dot += delta[s] * joint[S + s];
      const int64_t m = segment.muscle;
      geometry[m] += length;
      geometry[M + m] += w * dot * inverse_length;
      for (int64_t s = 0; s < S; ++s) geometry[(2 + s) * M + m] += w * delta[s] * inverse_length;
    }
  }

  void forward_vjp(const double* joint, const double* grad_geometry, double* grad_joint) const override {
    const int64_t S = S_, M = M_;
    double delta[kMaxSpace];
    for (const auto& segment : segments_) {
      const double w = segment.w;
      if (w == 0.0) continue;  // a segment between two points of one body has constant length
      const double inverse_length = 1.0 / vector_of(segment, joint, delta);
      const int64_t m = segment.muscle;
      double dot = 0.0, moment_dot = 0.0;
      for (int64_t s = 0; s < S; ++s) {
        dot += delta[s] * joint[S + s];
        moment_dot += grad_geometry[(2 + s) * M + m] * delta[s];
      }
      const double velocity = w * dot * inverse_length;
      const double grad_length = grad_geometry[m], grad_velocity = grad_geometry[M + m];
      for (int64_t s = 0; s < S; ++s) {
        const double unit = delta[s] * inverse_length;
        const double grad_delta =
            grad_length * unit + grad_velocity * (w * joint[S + s] - velocity * unit) * inverse_length +
            w * (grad_geometry[(2 + s) * M + m] - moment_dot * unit * inverse_length) * inverse_length;
        grad_joint[s] += w * grad_delta;
        grad_joint[S + s] += grad_velocity * w * unit;
      }
    }
  }

 private:
  struct Segment {
    double offset[kMaxSpace] = {};
    double w = 0.0;  // on_mass(end) - on_mass(start), in {-1, 0, 1}
    int64_t muscle = 0;
  };
  // Fills d = offset + w p for a segment and returns its length |d|.
  double vector_of(const Segment& segment, const double* joint, double* delta) const {
    double sum = 0.0;
    for (int64_t s = 0; s < S_; ++s) {
      delta[s] = segment.offset[s] + segment.w * joint[s];
      sum += delta[s] * delta[s];
    }
    return std::sqrt(sum);
  }

  int64_t S_, M_;
  std::vector<Segment> segments_;
};

}  // namespace

std::shared_ptr<const GeometryKernel> make_point_mass_path_kernel(int64_t space_dim, MusclePaths paths) {
  if (space_dim > PointMassPathKernel::kMaxSpace) return nullptr;  // op-by-op handles any dimension
  return std::make_shared<PointMassPathKernel>(space_dim, paths);
}

}  // namespace motornet::fused
