// Fused PathGeometry on a TwoDofArm (SPEC §4.1). Path points are fixed on the world (body 0), the upper arm
// (body 1, rotating by q1 about the shoulder) or the forearm (body 2, rotating by q1 + q2 about the elbow E,
// which the upper arm carries at l1). A moving point's Jacobian columns are perpendiculars:
//   upper arm:  P = R(q1) c,        dP/dq1 = perp(P),                    dP/dq2 = 0
//   forearm:    P = E + F,  F = R(q1 + q2) c,  dP/dq1 = perp(P),  dP/dq2 = perp(F)
// with perp(x, y) = (-y, x), so their own derivatives are -P or -F; the backward needs them because moment arms
// are Jacobians. Per segment d = P_end - P_start: length |d|, velocity d.(J_end - J_start) q'/|d|, moment arm
// d.(J_end - J_start)_k/|d|; segments summed into their muscle.
#include <cmath>

#include "builtin_kernels.h"

namespace motornet::fused {
namespace {

struct ArmPoint {
  int64_t body;
  double p[2], f[2];  // position; for forearm points, the part F from the elbow
  double j[2][2];     // j[axis][dof] = d p_axis / d q_dof
};

class TwoDofArmPathKernel final : public GeometryKernel {
 public:
  TwoDofArmPathKernel(double l1, MusclePaths path) : l1_(l1), path_(std::move(path)) {}

  void forward(const double* joint, double* geometry) const override {
    const int64_t M = path_.n_muscles;
    for (int64_t i = 0; i < 4 * M; ++i) geometry[i] = 0.0;
    const Trig t = trig(joint);
    for (size_t k = 0; k < path_.segment_start.size(); ++k) {
      const Segment s = segment(k, t, joint);
      const int64_t m = path_.segment_muscle[k];
      geometry[m] += s.length;
      geometry[M + m] += s.velocity;
      for (int64_t d = 0; d < 2; ++d) geometry[(2 + d) * M + m] += s.moment[d];
    }
  }

  void forward_vjp(const double* joint, const double* grad_geometry, double* grad_joint) const override {
    const int64_t M = path_.n_muscles;
    const Trig t = trig(joint);
    const double qdot[2] = {joint[2], joint[3]};
    for (size_t k = 0; k < path_.segment_start.size(); ++k) {
      const Segment s = segment(k, t, joint);
      const int64_t m = path_.segment_muscle[k];
      const double g_length = grad_geometry[m], g_velocity = grad_geometry[M + m];
      const double g_moment[2] = {grad_geometry[2 * M + m], grad_geometry[3 * M + m]};
      double u[2], g_delta[2], g_dv[2], g_dj[2][2];  // g_dj[axis][dof]: gradient of (J_end - J_start)
      for (int a = 0; a < 2; ++a) {
        u[a] = s.delta[a] / s.length;
        g_dv[a] = g_velocity * u[a];
        g_delta[a] = g_length * u[a] + g_velocity * (s.dv[a] - s.velocity * u[a]) / s.length;
        for (int d = 0; d < 2; ++d) {
          g_delta[a] += g_moment[d] * (s.dj[a][d] - s.moment[d] * u[a]) / s.length;
          g_dj[a][d] = g_moment[d] * u[a] + qdot[d] * g_dv[a];
        }
      }
      for (int d = 0; d < 2; ++d) grad_joint[2 + d] += s.dj[0][d] * g_dv[0] + s.dj[1][d] * g_dv[1];
      add_point_vjp(s.end, +1.0, g_delta, g_dj, grad_joint);
      add_point_vjp(s.start, -1.0, g_delta, g_dj, grad_joint);
    }
  }

 private:
  struct Trig {
    double c1, s1, c12, s12;
  };
  struct Segment {
    ArmPoint start, end;
    double delta[2], dj[2][2], dv[2], length, velocity, moment[2];
  };

  static Trig trig(const double* joint) {
    return {std::cos(joint[0]), std::sin(joint[0]), std::cos(joint[0] + joint[1]), std::sin(joint[0] + joint[1])};
  }

  ArmPoint point(int64_t i, const Trig& t) const {
    ArmPoint pt{};
    pt.body = path_.body[i];
    const double cx = path_.coordinates[i][0], cy = path_.coordinates[i][1];
    if (pt.body == 0) {
      pt.p[0] = cx;
      pt.p[1] = cy;
    } else if (pt.body == 1) {
      pt.p[0] = t.c1 * cx - t.s1 * cy;
      pt.p[1] = t.s1 * cx + t.c1 * cy;
      pt.j[0][0] = -pt.p[1];
      pt.j[1][0] = pt.p[0];
    } else {
      pt.f[0] = t.c12 * cx - t.s12 * cy;
      pt.f[1] = t.s12 * cx + t.c12 * cy;
      pt.p[0] = l1_ * t.c1 + pt.f[0];
      pt.p[1] = l1_ * t.s1 + pt.f[1];
      pt.j[0][0] = -pt.p[1];
      pt.j[1][0] = pt.p[0];
      pt.j[0][1] = -pt.f[1];
      pt.j[1][1] = pt.f[0];
    }
    return pt;
  }

  Segment segment(size_t k, const Trig& t, const double* joint) const {
    Segment s;
    s.start = point(path_.segment_start[k], t);
    s.end = point(path_.segment_start[k] + 1, t);
    double sum = 0.0;
    for (int a = 0; a < 2; ++a) {
      s.delta[a] = s.end.p[a] - s.start.p[a];
      for (int d = 0; d < 2; ++d) s.dj[a][d] = s.end.j[a][d] - s.start.j[a][d];
      s.dv[a] = s.dj[a][0] * joint[2] + s.dj[a][1] * joint[3];
      sum += s.delta[a] * s.delta[a];
    }
    s.length = std::sqrt(sum);
    s.velocity = (s.delta[0] * s.dv[0] + s.delta[1] * s.dv[1]) / s.length;
    for (int d = 0; d < 2; ++d) s.moment[d] = (s.delta[0] * s.dj[0][d] + s.delta[1] * s.dj[1][d]) / s.length;
    return s;
  }

  // Adds sign * (the gradient of a point's position g_delta and of its Jacobian g_dj) through q.
  static void add_point_vjp(const ArmPoint& pt, double sign, const double* g_delta, const double (*g_dj)[2],
                            double* grad_joint) {
    if (pt.body == 0) return;
    for (int j = 0; j < 2; ++j)  // position: dP/dq_j = J[:, j]
      grad_joint[j] += sign * (pt.j[0][j] * g_delta[0] + pt.j[1][j] * g_delta[1]);
    // Jacobian columns: d J[:,0]/dq1 = -P; on the forearm d J[:,0]/dq2 = d J[:,1]/dq1 = d J[:,1]/dq2 = -F.
    grad_joint[0] -= sign * (pt.p[0] * g_dj[0][0] + pt.p[1] * g_dj[1][0]);
    if (pt.body == 2) {
      const double f_dot_col0 = pt.f[0] * g_dj[0][0] + pt.f[1] * g_dj[1][0];
      const double f_dot_col1 = pt.f[0] * g_dj[0][1] + pt.f[1] * g_dj[1][1];
      grad_joint[1] -= sign * f_dot_col0;
      grad_joint[0] -= sign * f_dot_col1;
      grad_joint[1] -= sign * f_dot_col1;
    }
  }

  double l1_;
  MusclePaths path_;
};

}  // namespace

std::shared_ptr<const GeometryKernel> make_two_dof_arm_path_kernel(double l1, MusclePaths paths) {
  return std::make_shared<TwoDofArmPathKernel>(l1, std::move(paths));
}

}  // namespace motornet::fused
