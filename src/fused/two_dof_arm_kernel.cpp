// Fused TwoDofArm (SPEC §3.2): acc = M(q)^-1 (tau + J^T F - c(q, q')) with the 2x2 inverse written out, and
// the endpoint kinematics; derivatives by hand.
#include <cmath>

#include "builtin_kernels.h"

namespace motornet::fused {
namespace {

class TwoDofArmKernel final : public SkeletonKernel {
 public:
  TwoDofArmKernel(TwoDofArmParameters p, SkeletonBounds bounds)
      : SkeletonKernel(/*dof=*/2, /*space_dim=*/2, std::move(bounds)), p_(p) {
    inertia_11_ = p.m1 * p.l1g * p.l1g + p.i1 + p.m2 * (p.l2g * p.l2g + p.l1 * p.l1) + p.i2;
    inertia_12_ = p.m2 * p.l2g * p.l2g + p.i2;
    coupling_ = p.m2 * p.l1 * p.l2g;
  }

  void ode(const double* torque, const double* joint, const double* endpoint_load,
           double* acceleration) const override {
    const Dynamics x = evaluate(torque, joint, endpoint_load);
    acceleration[0] = x.acc1;
    acceleration[1] = x.acc2;
  }

  void ode_vjp(const double* torque, const double* joint, const double* endpoint_load,
               const double* grad_acceleration, double* grad_torque, double* grad_joint,
               double* grad_endpoint_load) const override {
    const Dynamics x = evaluate(torque, joint, endpoint_load);
    const double g1 = grad_acceleration[0], g2 = grad_acceleration[1];
    const double v1 = joint[2], v2 = joint[3];
    // acc1 = (M22 r1 - M12 r2)/det, acc2 = (M11 r2 - M12 r1)/det, det = M11 M22 - M12²
    const double grad_r1 = (g1 * x.mass_22 - g2 * x.mass_12) / x.det;
    const double grad_r2 = (g2 * x.mass_11 - g1 * x.mass_12) / x.det;
    const double grad_det = -(g1 * x.acc1 + g2 * x.acc2) / x.det;
    const double grad_m11 = g2 * x.r2 / x.det + grad_det * x.mass_22;
    const double grad_m12 = -(g1 * x.r2 + g2 * x.r1) / x.det - 2.0 * grad_det * x.mass_12;
    // M11 = I11 + 2 C cos q2, M12 = I12 + C cos q2
    double grad_q1 = 0.0;
    double grad_q2 = -coupling_ * x.s2 * (2.0 * grad_m11 + grad_m12);
    // r = tau - c(q, q') (+ J^T F): c1 = -C s2 (2 v1 + v2) v2 + b v1, c2 = C s2 v1² + b v2
    grad_torque[0] += grad_r1;
    grad_torque[1] += grad_r2;
    const double grad_c1 = -grad_r1, grad_c2 = -grad_r2;
    grad_q2 += grad_c1 * (-coupling_ * x.c2 * (2.0 * v1 + v2) * v2) + grad_c2 * coupling_ * x.c2 * v1 * v1;
    grad_joint[2] += grad_c1 * (-2.0 * coupling_ * x.s2 * v2 + p_.viscosity) + grad_c2 * 2.0 * coupling_ * x.s2 * v1;
    grad_joint[3] += grad_c1 * (-2.0 * coupling_ * x.s2 * (v1 + v2)) + grad_c2 * p_.viscosity;
    if (endpoint_load) {
      const double fx = endpoint_load[0], fy = endpoint_load[1];
      const Kinematics k = kinematics(joint);
      grad_endpoint_load[0] += grad_r1 * k.jx1 + grad_r2 * k.jx2;
      grad_endpoint_load[1] += grad_r1 * k.jy1 + grad_r2 * k.jy2;
      // d(J^T F)/dq: d jx1/dq1 = -jy1, d jy1/dq1 = jx1; the forearm terms rotate with q1 + q2.
      const double forearm_x = -p_.l2 * k.c12, forearm_y = -p_.l2 * k.s12;  // d jx2/dq, d jy2/dq
      grad_q1 += grad_r1 * (-k.jy1 * fx + k.jx1 * fy) + grad_r2 * (forearm_x * fx + forearm_y * fy);
      grad_q2 += (grad_r1 + grad_r2) * (forearm_x * fx + forearm_y * fy);
    }
    grad_joint[0] += grad_q1;
    grad_joint[1] += grad_q2;
  }

  void to_cartesian(const double* joint, double* cartesian) const override {
    const Kinematics k = kinematics(joint);
    const double v1 = joint[2], v2 = joint[3];
    cartesian[0] = p_.l1 * k.c1 + p_.l2 * k.c12;
    cartesian[1] = p_.l1 * k.s1 + p_.l2 * k.s12;
    cartesian[2] = k.jx1 * v1 + k.jx2 * v2;
    cartesian[3] = k.jy1 * v1 + k.jy2 * v2;
  }

  void to_cartesian_vjp(const double* joint, const double* grad_cartesian, double* grad_joint) const override {
    const Kinematics k = kinematics(joint);
    const double v1 = joint[2], v2 = joint[3];
    const double gx = grad_cartesian[0], gy = grad_cartesian[1], gvx = grad_cartesian[2], gvy = grad_cartesian[3];
    const double forearm_x = -p_.l2 * k.c12, forearm_y = -p_.l2 * k.s12;  // d jx2/dq, d jy2/dq
    grad_joint[0] += gx * k.jx1 + gy * k.jy1 + gvx * (-k.jy1 * v1 + forearm_x * v2) + gvy * (k.jx1 * v1 + forearm_y * v2);
    grad_joint[1] += gx * k.jx2 + gy * k.jy2 + (gvx * forearm_x + gvy * forearm_y) * (v1 + v2);
    grad_joint[2] += gvx * k.jx1 + gvy * k.jy1;
    grad_joint[3] += gvx * k.jx2 + gvy * k.jy2;
  }

 private:
  // Endpoint Jacobian columns: (jx1, jy1) = dP/dq1, (jx2, jy2) = dP/dq2.
  struct Kinematics {
    double s1, c1, s12, c12, jx1, jy1, jx2, jy2;
  };
  Kinematics kinematics(const double* joint) const {
    Kinematics k;
    k.s1 = std::sin(joint[0]);
    k.c1 = std::cos(joint[0]);
    k.s12 = std::sin(joint[0] + joint[1]);
    k.c12 = std::cos(joint[0] + joint[1]);
    k.jx1 = -p_.l1 * k.s1 - p_.l2 * k.s12;
    k.jy1 = p_.l1 * k.c1 + p_.l2 * k.c12;
    k.jx2 = -p_.l2 * k.s12;
    k.jy2 = p_.l2 * k.c12;
    return k;
  }

  struct Dynamics {
    double s2, c2, mass_11, mass_12, mass_22, r1, r2, det, acc1, acc2;
  };
  Dynamics evaluate(const double* torque, const double* joint, const double* endpoint_load) const {
    Dynamics x;
    const double v1 = joint[2], v2 = joint[3];
    x.c2 = std::cos(joint[1]);
    x.s2 = std::sin(joint[1]);
    x.mass_11 = inertia_11_ + 2.0 * coupling_ * x.c2;
    x.mass_12 = inertia_12_ + coupling_ * x.c2;
    x.mass_22 = inertia_12_;
    const double velocity_term_1 = -coupling_ * x.s2 * (2.0 * v1 + v2) * v2 + p_.viscosity * v1;
    const double velocity_term_2 = coupling_ * x.s2 * v1 * v1 + p_.viscosity * v2;
    x.r1 = torque[0] - velocity_term_1;
    x.r2 = torque[1] - velocity_term_2;
    if (endpoint_load) {
      const Kinematics k = kinematics(joint);
      x.r1 += k.jx1 * endpoint_load[0] + k.jy1 * endpoint_load[1];
      x.r2 += k.jx2 * endpoint_load[0] + k.jy2 * endpoint_load[1];
    }
    x.det = x.mass_11 * x.mass_22 - x.mass_12 * x.mass_12;
    x.acc1 = (x.mass_22 * x.r1 - x.mass_12 * x.r2) / x.det;
    x.acc2 = (x.mass_11 * x.r2 - x.mass_12 * x.r1) / x.det;
    return x;
  }

  TwoDofArmParameters p_;
  double inertia_11_, inertia_12_, coupling_;
};

}  // namespace

std::shared_ptr<const SkeletonKernel> make_two_dof_arm_kernel(TwoDofArmParameters parameters, SkeletonBounds bounds) {
  return std::make_shared<TwoDofArmKernel>(parameters, std::move(bounds));
}

}  // namespace motornet::fused
