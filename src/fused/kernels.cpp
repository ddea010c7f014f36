// The bounded semi-implicit joint integration every fused skeleton shares (SPEC §2.1), mirroring
// SkeletonImpl::integrate op for op.
#include "motornet/fused/kernels.h"

#include <algorithm>

namespace motornet::fused {

namespace {
// A clamp passes the gradient where the input lies within its bounds, ends included (as torch's clamp does).
inline bool within(double x, double lower, double upper) { return x >= lower && x <= upper; }
}  // namespace

SkeletonKernel::SkeletonKernel(int64_t dof, int64_t space_dim, SkeletonBounds bounds)
    : dof_(dof), space_dim_(space_dim), bounds_(std::move(bounds)) {}

void SkeletonKernel::integrate(double h, const double* acceleration, const double* joint, double* next) const {
  // v' = clip(v + acc h); p' = p + v h (old velocity); v' = 0 when it pushes into a reached bound; clip p'.
  const auto& b = bounds_;
  for (int64_t d = 0; d < dof_; ++d) {
    const double position = joint[d], velocity = joint[dof_ + d];
    double new_velocity = std::min(std::max(velocity + acceleration[d] * h, b.velocity_lower[d]), b.velocity_upper[d]);
    const double new_position = position + velocity * h;
    if (new_velocity < 0 && new_position <= b.position_lower[d]) new_velocity = 0.0;
    if (new_velocity > 0 && new_position >= b.position_upper[d]) new_velocity = 0.0;
    next[d] = std::min(std::max(new_position, b.position_lower[d]), b.position_upper[d]);
    next[dof_ + d] = new_velocity;
  }
}

void SkeletonKernel::integrate_vjp(double h, const double* acceleration, const double* joint, const double* grad_next,
                                   double* grad_acceleration, double* grad_joint) const {
  const auto& b = bounds_;
  for (int64_t d = 0; d < dof_; ++d) {
    const double position = joint[d], velocity = joint[dof_ + d];
    const double raw_velocity = velocity + acceleration[d] * h;
    const double clipped_velocity = std::min(std::max(raw_velocity, b.velocity_lower[d]), b.velocity_upper[d]);
    const double new_position = position + velocity * h;
    const bool stopped = (clipped_velocity < 0 && new_position <= b.position_lower[d]) ||
                         (clipped_velocity > 0 && new_position >= b.position_upper[d]);
    if (within(new_position, b.position_lower[d], b.position_upper[d])) {
      grad_joint[d] += grad_next[d];
      grad_joint[dof_ + d] += grad_next[d] * h;
    }
    if (!stopped && within(raw_velocity, b.velocity_lower[d], b.velocity_upper[d])) {
      grad_joint[dof_ + d] += grad_next[dof_ + d];
      grad_acceleration[d] += grad_next[dof_ + d] * h;
    }
  }
}

}  // namespace motornet::fused
