// Fused PathGeometry on a PointMass (SPEC §4.1). A point on the mass moves with it and one on the world stays,
// so a segment's vector is d = c_end - c_start + w p with w = on_mass(end) - on_mass(start) in {-1, 0, 1}:
// length |d|, velocity w d.p'/|d|, moment arm on dof s w d_s/|d|; segments summed into their muscle.
#include <cmath>

#include "builtin_kernels.h"

namespace motornet::fused {
namespace {

class PointMassPathKernel final : public GeometryKernel {
 public:
  explicit PointMassPathKernel(PointMassPath path) : path_(std::move(path)) {}

  void forward(const double* joint, double* geometry) const override {
    const int64_t S = path_.space_dim, M = path_.n_muscles;
    for (int64_t i = 0; i < (2 + S) * M; ++i) geometry[i] = 0.0;
    double delta[kMaxSpace];
    for (size_t k = 0; k < path_.segment_start.size(); ++k) {
      const double w = segment_vector(k, joint, delta);
      const double length = norm(delta);
      double dot = 0.0;
      for (int64_t s = 0; s < S; ++s) dot += delta[s] * joint[S + s];
      const int64_t m = path_.segment_muscle[k];
      geometry[m] += length;
      geometry[M + m] += w * dot / length;
      for (int64_t s = 0; s < S; ++s) geometry[(2 + s) * M + m] += w * delta[s] / length;
    }
  }

  void forward_vjp(const double* joint, const double* grad_geometry, double* grad_joint) const override {
    const int64_t S = path_.space_dim, M = path_.n_muscles;
    double delta[kMaxSpace];
    for (size_t k = 0; k < path_.segment_start.size(); ++k) {
      const double w = segment_vector(k, joint, delta);
      if (w == 0.0) continue;  // a segment between two points of one body has constant length
      const int64_t m = path_.segment_muscle[k];
      const double length = norm(delta);
      double dot = 0.0, moment_dot = 0.0;
      for (int64_t s = 0; s < S; ++s) {
        dot += delta[s] * joint[S + s];
        moment_dot += grad_geometry[(2 + s) * M + m] * delta[s];
      }
      const double velocity = w * dot / length;
      const double grad_length = grad_geometry[m], grad_velocity = grad_geometry[M + m];
      for (int64_t s = 0; s < S; ++s) {
        const double unit = delta[s] / length;
        const double grad_delta = grad_length * unit + grad_velocity * (w * joint[S + s] - velocity * unit) / length +
                                  w * (grad_geometry[(2 + s) * M + m] - moment_dot * unit / length) / length;
        grad_joint[s] += w * grad_delta;
        grad_joint[S + s] += grad_velocity * w * unit;
      }
    }
  }

  static constexpr int64_t kMaxSpace = 3;

 private:
  // Fills d for segment k and returns w.
  double segment_vector(size_t k, const double* joint, double* delta) const {
    const int64_t start = path_.segment_start[k], end = start + 1;
    const double w = static_cast<double>(path_.body[end] == 1) - static_cast<double>(path_.body[start] == 1);
    for (int64_t s = 0; s < path_.space_dim; ++s)
      delta[s] = path_.coordinates[end][s] - path_.coordinates[start][s] + w * joint[s];
    return w;
  }
  double norm(const double* delta) const {
    double sum = 0.0;
    for (int64_t s = 0; s < path_.space_dim; ++s) sum += delta[s] * delta[s];
    return std::sqrt(sum);
  }

  PointMassPath path_;
};

}  // namespace

std::shared_ptr<const GeometryKernel> make_point_mass_path_kernel(PointMassPath path) {
  if (path.space_dim > PointMassPathKernel::kMaxSpace) return nullptr;  // op-by-op handles any dimension
  return std::make_shared<PointMassPathKernel>(std::move(path));
}

}  // namespace motornet::fused
