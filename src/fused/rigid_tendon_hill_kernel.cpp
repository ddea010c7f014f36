// Fused RigidTendonHillMuscle (SPEC §5.2, Kistemaker et al. 2010): the same curves as the op-by-op model,
// evaluated per muscle, with the chain rule written out by hand in reverse order.
#include <algorithm>

#include "../muscles/kistemaker_constants.h"
#include "builtin_kernels.h"
#include "kistemaker_active.h"

namespace motornet::fused {
namespace {
namespace k = kistemaker;

constexpr int64_t kRows = 7;  // activation, length, velocity, flpe, flce, fv, force

// Everything the force of one muscle depends on, kept for the backward pass.
struct HillPoint {
  double a, raw_length, length, velocity, ln, vn;
  double stretch_raw, flpe;
  KistemakerActive curve;  // flce, a_rel, b_rel
  double fa, g, den, p1, p2, p3;
  double vs, short_num, short_den, shortening, vl, long_num, long_den, lengthening, fv_raw, fv;
};

class RigidTendonHillKernel final : public MuscleKernel {
 public:
  RigidTendonHillKernel(ActivationParameters activation, RigidTendonHillParameters parameters)
      : MuscleKernel(std::move(activation), kRows, /*force_row=*/6), p_(std::move(parameters)) {}

  void integrate(double h, const double* derivative, const double* state, const double* geometry,
                 double* next) const override {
    const int64_t M = n_muscles();
    for (int64_t m = 0; m < M; ++m) {
      const HillPoint x = evaluate(m, integrate_activation(m, h, derivative, state), geometry);
      const double values[kRows] = {x.a, x.length, x.velocity, x.flpe, x.curve.flce, x.fv,
                                    (x.fv + x.flpe) * p_.max_isometric_force[m]};
      for (int64_t r = 0; r < kRows; ++r) next[r * M + m] = values[r];
    }
  }

  void integrate_vjp(double h, const double* derivative, const double* state, const double* geometry,
                     const double* grad_next, double* grad_derivative, double* grad_state,
                     double* grad_geometry) const override {
    const int64_t M = n_muscles();
    for (int64_t m = 0; m < M; ++m) {
      const HillPoint x = evaluate(m, integrate_activation(m, h, derivative, state), geometry);
      auto grad_row = [&](int64_t r) { return grad_next[r * M + m]; };
      const double f_max = p_.max_isometric_force[m];
      double grad_a = grad_row(0), grad_length = grad_row(1), grad_velocity = grad_row(2);
      double grad_flpe = grad_row(3) + grad_row(6) * f_max;
      double grad_flce = grad_row(4);
      const double grad_fv = grad_row(5) + grad_row(6) * f_max;
      double grad_fa = 0, grad_a_rel = 0, grad_b_rel = 0, grad_vs = 0, grad_vl = 0;

      // fv = max(where(vn < 0, shortening, lengthening), 0)
      const double grad_fv_raw = x.fv_raw >= 0.0 ? grad_fv : 0.0;
      if (x.vn < 0.0) {
        // shortening = (vs a a_rel + fa b_rel) / (b_rel - vs)
        const double g = grad_fv_raw / x.short_den;
        const double q = grad_fv_raw * x.short_num / (x.short_den * x.short_den);
        grad_vs += g * x.a * x.curve.a_rel + q;
        grad_a += g * x.vs * x.curve.a_rel;
        grad_a_rel += g * x.vs * x.a;
        grad_fa += g * x.curve.b_rel;
        grad_b_rel += g * x.fa - q;
      } else {
        // lengthening = (-p1 p3 + p1 s vl + p2 - p3 vl + s vl²) / (p1 + vl)
        const double g = grad_fv_raw / x.long_den;
        const double q = grad_fv_raw * x.long_num / (x.long_den * x.long_den);
        const double grad_p1 = g * (-x.p3 + k::kSas * x.vl) - q;
        const double grad_p2 = g;
        const double grad_p3 = g * (-x.p1 - x.vl);
        grad_vl += g * (x.p1 * k::kSas - x.p3 + 2.0 * k::kSas * x.vl) - q;
        // p1 = -(fa/2)/den, p2 = (fa/2)²/den, p3 = -1.5 fa, den = s - 2 G
        const double half_fa = x.fa / 2.0;
        grad_fa += -0.5 * grad_p1 / x.den + grad_p2 * half_fa / x.den - 1.5 * grad_p3;
        const double grad_den = grad_p1 * half_fa / (x.den * x.den) - grad_p2 * half_fa * half_fa / (x.den * x.den);
        const double grad_g = -2.0 * grad_den;
        // G = a (flce + a_rel) / b_rel
        grad_a += grad_g * (x.curve.flce + x.curve.a_rel) / x.curve.b_rel;
        grad_flce += grad_g * x.a / x.curve.b_rel;
        grad_a_rel += grad_g * x.a / x.curve.b_rel;
        grad_b_rel += -grad_g * x.g / x.curve.b_rel;
      }
      // fa = flce a
      grad_flce += grad_fa * x.a;
      grad_a += grad_fa * x.curve.flce;
      double grad_ln = 0.0;
      x.curve.vjp(grad_flce, grad_a_rel, grad_b_rel, grad_ln, grad_a);
      // flpe = k_pe max((l - l_pe)/l_ce, 0)²
      if (x.stretch_raw >= 0.0)
        grad_length += grad_flpe * 2.0 * p_.passive_stiffness[m] * x.stretch_raw / p_.optimal_muscle_length[m];
      grad_length += grad_ln / p_.optimal_muscle_length[m];
      // vs = min(vn, 0), vl = max(vn, 0), vn = v / v_max
      double grad_vn = (x.vn <= 0.0 ? grad_vs : 0.0) + (x.vn >= 0.0 ? grad_vl : 0.0);
      grad_velocity += grad_vn / p_.max_velocity[m];
      // length = max(L_mt - l_t, 0); velocity = L_mt'
      if (x.raw_length >= 0.0) grad_geometry[m] += grad_length;
      grad_geometry[M + m] += grad_velocity;
      integrate_activation_vjp(m, h, derivative, state, grad_a, grad_derivative, grad_state);
    }
  }

 private:
  HillPoint evaluate(int64_t m, double activation, const double* geometry) const {
    const int64_t M = n_muscles();
    HillPoint x;
    x.a = activation;
    x.raw_length = geometry[m] - p_.tendon_length[m];
    x.length = std::max(x.raw_length, 0.0);
    x.velocity = geometry[M + m];
    x.ln = x.length / p_.optimal_muscle_length[m];
    x.vn = x.velocity / p_.max_velocity[m];
    x.stretch_raw = (x.length - p_.slack_length[m]) / p_.optimal_muscle_length[m];
    const double stretch = std::max(x.stretch_raw, 0.0);
    x.flpe = p_.passive_stiffness[m] * stretch * stretch;
    x.curve = KistemakerActive(x.ln, x.a);
    const double flce = x.curve.flce, a_rel = x.curve.a_rel, b_rel = x.curve.b_rel;
    x.fa = flce * x.a;
    x.g = x.a * (flce + a_rel) / b_rel;
    x.den = k::kSas - 2.0 * x.g;
    x.p1 = -(x.fa / 2.0) / x.den;
    x.p2 = (x.fa / 2.0) * (x.fa / 2.0) / x.den;
    x.p3 = -1.5 * x.fa;
    x.vs = std::min(x.vn, 0.0);
    x.short_num = x.vs * x.a * a_rel + x.fa * b_rel;
    x.short_den = b_rel - x.vs;
    x.shortening = x.short_num / x.short_den;
    x.vl = std::max(x.vn, 0.0);
    x.long_num = -x.p1 * x.p3 + x.p1 * k::kSas * x.vl + x.p2 - x.p3 * x.vl + k::kSas * x.vl * x.vl;
    x.long_den = x.p1 + x.vl;
    x.lengthening = x.long_num / x.long_den;
    x.fv_raw = x.vn < 0.0 ? x.shortening : x.lengthening;
    x.fv = std::max(x.fv_raw, 0.0);
    return x;
  }

  RigidTendonHillParameters p_;
};

}  // namespace

std::shared_ptr<const MuscleKernel> make_rigid_tendon_hill_kernel(ActivationParameters activation,
                                                                  RigidTendonHillParameters parameters) {
  return std::make_shared<RigidTendonHillKernel>(std::move(activation), std::move(parameters));
}

}  // namespace motornet::fused
