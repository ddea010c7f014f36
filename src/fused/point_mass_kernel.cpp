// Fused PointMass (SPEC §3.1): acc = (tau + F) / m; the cartesian state is the joint state.
#include "builtin_kernels.h"

namespace motornet::fused {
namespace {

class PointMassKernel final : public SkeletonKernel {
 public:
  PointMassKernel(int64_t space_dim, double mass, SkeletonBounds bounds)
      : SkeletonKernel(space_dim, space_dim, std::move(bounds)), mass_(mass) {}

  void ode(const double* torque, const double* joint, const double* endpoint_load,
           double* acceleration) const override {
    for (int64_t d = 0; d < dof(); ++d)
      acceleration[d] = (endpoint_load ? torque[d] + endpoint_load[d] : torque[d]) / mass_;
  }

  void ode_vjp(const double* torque, const double* joint, const double* endpoint_load,
               const double* grad_acceleration, double* grad_torque, double* grad_joint,
               double* grad_endpoint_load) const override {
    for (int64_t d = 0; d < dof(); ++d) {
      grad_torque[d] += grad_acceleration[d] / mass_;
      if (endpoint_load) grad_endpoint_load[d] += grad_acceleration[d] / mass_;
    }
  }

  void to_cartesian(const double* joint, double* cartesian) const override {
    for (int64_t i = 0; i < 2 * dof(); ++i) cartesian[i] = joint[i];
  }

  void to_cartesian_vjp(const double* joint, const double* grad_cartesian, double* grad_joint) const override {
    for (int64_t i = 0; i < 2 * dof(); ++i) grad_joint[i] += grad_cartesian[i];
  }

 private:
  double mass_;
};

}  // namespace

std::shared_ptr<const SkeletonKernel> make_point_mass_kernel(int64_t space_dim, double mass, SkeletonBounds bounds) {
  return std::make_shared<PointMassKernel>(space_dim, mass, std::move(bounds));
}

}  // namespace motornet::fused
