// The bounded semi-implicit joint integration every fused skeleton shares (SPEC §2.1): the same equations as
// SkeletonImpl::integrate (body/equations/joint_integration.h), on numbers.
#include "motornet/body/fused/kernels.h"

#include "motornet/body/equations/joint_integration.h"
#include "motornet/body/equations/pullback.h"

#include <stdexcept>

namespace motornet::fused {

namespace {
[[noreturn]] void no_row_lanes(const char* kernel) {
  throw std::logic_error(std::string(kernel) + " kernel has no block version (has_row_lanes() is false)");
}
}  // namespace

void MuscleKernel::ode(const RowLanes*, const RowLanes*, RowLanes*) const { no_row_lanes("this muscle"); }
void MuscleKernel::ode_vjp(const RowLanes*, const RowLanes*, const RowLanes*, RowLanes*, RowLanes*) const {
  no_row_lanes("this muscle");
}
void MuscleKernel::integrate(double, const RowLanes*, const RowLanes*, const RowLanes*, RowLanes*) const {
  no_row_lanes("this muscle");
}
void MuscleKernel::integrate_vjp(double, const RowLanes*, const RowLanes*, const RowLanes*, const RowLanes*,
                                 RowLanes*, RowLanes*, RowLanes*) const {
  no_row_lanes("this muscle");
}
void SkeletonKernel::ode(const RowLanes*, const RowLanes*, const RowLanes*, RowLanes*) const {
  no_row_lanes("this skeleton");
}
void SkeletonKernel::ode_vjp(const RowLanes*, const RowLanes*, const RowLanes*, const RowLanes*, RowLanes*,
                             RowLanes*, RowLanes*) const {
  no_row_lanes("this skeleton");
}
void SkeletonKernel::to_cartesian(const RowLanes*, RowLanes*) const { no_row_lanes("this skeleton"); }
void SkeletonKernel::to_cartesian_vjp(const RowLanes*, const RowLanes*, RowLanes*) const {
  no_row_lanes("this skeleton");
}
void GeometryKernel::forward(const RowLanes*, RowLanes*) const { no_row_lanes("this geometry"); }
void GeometryKernel::forward_vjp(const RowLanes*, const RowLanes*, RowLanes*) const { no_row_lanes("this geometry"); }

SkeletonKernel::SkeletonKernel(int64_t dof, int64_t space_dim, SkeletonBounds bounds)
    : dof_(dof), space_dim_(space_dim), bounds_(std::move(bounds)) {}

namespace {
// The loops over the dofs of one row or block, compiled like the muscles' loops (MOTORNET_KERNEL_LOOP): without it
// the dual numbers' pullback was not inlined and took 1% of W1 against 0.3% for the hand-derived product it
// replaced.
template <class V>
MOTORNET_KERNEL_LOOP void integrate_joints(const SkeletonBounds& b, int64_t dof, double h, const V* acceleration,
                                           const V* joint, V* next) {
  for (int64_t d = 0; d < dof; ++d) {
    const auto [position, velocity] =
        equations::integrate_joint(h, acceleration[d], joint[d], joint[dof + d], b.position_lower[d],
                                   b.position_upper[d], b.velocity_lower[d], b.velocity_upper[d]);
    next[d] = position;
    next[dof + d] = velocity;
  }
}

template <class V>
MOTORNET_KERNEL_LOOP void integrate_joints_vjp(const SkeletonBounds& b, int64_t dof, double h, const V* acceleration,
                                               const V* joint, const V* grad_next, V* grad_acceleration,
                                               V* grad_joint) {
  for (int64_t d = 0; d < dof; ++d) {
    std::array<V, 3> grad{};
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

void SkeletonKernel::integrate(double h, const double* acceleration, const double* joint, double* next) const {
  integrate_joints(bounds_, dof_, h, acceleration, joint, next);
}

void SkeletonKernel::integrate(double h, const RowLanes* acceleration, const RowLanes* joint, RowLanes* next) const {
  integrate_joints(bounds_, dof_, h, acceleration, joint, next);
}

void SkeletonKernel::integrate_vjp(double h, const double* acceleration, const double* joint, const double* grad_next,
                                   double* grad_acceleration, double* grad_joint) const {
  integrate_joints_vjp(bounds_, dof_, h, acceleration, joint, grad_next, grad_acceleration, grad_joint);
}

void SkeletonKernel::integrate_vjp(double h, const RowLanes* acceleration, const RowLanes* joint,
                                   const RowLanes* grad_next, RowLanes* grad_acceleration, RowLanes* grad_joint) const {
  integrate_joints_vjp(bounds_, dof_, h, acceleration, joint, grad_next, grad_acceleration, grad_joint);
}

}  // namespace motornet::fused
