// The bounded semi-implicit joint integration every fused skeleton shares (SPEC §2.1): the same equations as
// SkeletonImpl::integrate (body/equations/joint_integration.h), on numbers.
#include "motornet/body/fused/kernels.h"

#include "motornet/body/equations/joint_integration.h"
#include "motornet/body/equations/pullback.h"

namespace motornet::fused {

SkeletonKernel::SkeletonKernel(int64_t dof, int64_t space_dim, SkeletonBounds bounds)
    : dof_(dof), space_dim_(space_dim), bounds_(std::move(bounds)) {}

void SkeletonKernel::integrate(double h, const double* acceleration, const double* joint, double* next) const {
  const auto& b = bounds_;
  for (int64_t d = 0; d < dof_; ++d) {
    const auto [position, velocity] =
        equations::integrate_joint(h, acceleration[d], joint[d], joint[dof_ + d], b.position_lower[d],
                                   b.position_upper[d], b.velocity_lower[d], b.velocity_upper[d]);
    next[d] = position;
    next[dof_ + d] = velocity;
  }
}

namespace {
// The loop over the dofs of one row, compiled like the muscles' loops (MOTORNET_KERNEL_LOOP): without it the
// dual numbers' pullback was not inlined and took 1% of W1 against 0.3% for the hand-derived product it replaced.
MOTORNET_KERNEL_LOOP void integrate_joints_vjp(const SkeletonBounds& b, int64_t dof, double h,
                                               const double* acceleration, const double* joint,
                                               const double* grad_next, double* grad_acceleration,
                                               double* grad_joint) {
  for (int64_t d = 0; d < dof; ++d) {
    std::array<double, 3> grad{};
    equations::pullback<3>(
        [&](const auto& x) {
          return equations::integrate_joint(h, x[0], x[1], x[2], b.position_lower[d], b.position_upper[d],
                                            b.velocity_lower[d], b.velocity_upper[d]);
        },
        {acceleration[d], joint[d], joint[dof + d]}, grad_next + d, dof, grad);
    grad_acceleration[d] += grad[0];
    grad_joint[d] += grad[1];
    grad_joint[dof + d] += grad[2];
  }
}
}  // namespace

void SkeletonKernel::integrate_vjp(double h, const double* acceleration, const double* joint, const double* grad_next,
                                   double* grad_acceleration, double* grad_joint) const {
  integrate_joints_vjp(bounds_, dof_, h, acceleration, joint, grad_next, grad_acceleration, grad_joint);
}

}  // namespace motornet::fused
