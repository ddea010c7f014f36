// Fused RigidTendonHillMuscleThelen (SPEC §5.3, Thelen 2003): the same curves as the op-by-op model, evaluated
// per muscle, with the chain rule written out by hand in reverse order.
#include <algorithm>
#include <cmath>

#include "../muscles/thelen_constants.h"
#include "builtin_kernels.h"

namespace motornet::fused {
namespace {
namespace t = thelen;

constexpr int64_t kRows = 7;  // activation, length, velocity, flpe, flce, fv, force

// Everything the force of one muscle depends on, kept for the backward pass.
struct ThelenPoint {
  double a, raw_length, length, velocity, passive_exp, flpe_raw, flpe, stretch, flce;
  double vs, short_num, short_den, vl, long_num, long_den, fv_raw, fv;
  double c2, c3, c4, c5;  // the lengthening branch's constants for this muscle
};

class RigidTendonThelenKernel final : public MuscleKernel {
 public:
  RigidTendonThelenKernel(ActivationParameters activation, RigidTendonThelenParameters parameters)
      : MuscleKernel(std::move(activation), kRows, /*force_row=*/6), p_(std::move(parameters)) {}

  void integrate(double h, const double* derivative, const double* state, const double* geometry,
                 double* next) const override {
    const int64_t M = n_muscles();
    for (int64_t m = 0; m < M; ++m) {
      const ThelenPoint x = evaluate(m, integrate_activation(m, h, derivative, state), geometry);
      const double values[kRows] = {x.a,  x.length, x.velocity, x.flpe, x.flce, x.fv,
                                    (x.a * x.flce * x.fv + x.flpe) * p_.max_isometric_force[m]};
      for (int64_t r = 0; r < kRows; ++r) next[r * M + m] = values[r];
    }
  }

  void integrate_vjp(double h, const double* derivative, const double* state, const double* geometry,
                     const double* grad_next, double* grad_derivative, double* grad_state,
                     double* grad_geometry) const override {
    const int64_t M = n_muscles();
    for (int64_t m = 0; m < M; ++m) {
      const ThelenPoint x = evaluate(m, integrate_activation(m, h, derivative, state), geometry);
      auto grad_row = [&](int64_t r) { return grad_next[r * M + m]; };
      const double f_max = p_.max_isometric_force[m], l_ce = p_.optimal_muscle_length[m];
      const double vmax = p_.max_velocity[m];
      // force = (a flce fv + flpe) F_max
      const double grad_force = grad_row(6) * f_max;
      double grad_a = grad_row(0) + grad_force * x.flce * x.fv;
      double grad_length = grad_row(1), grad_velocity = grad_row(2);
      const double grad_flpe = grad_row(3) + grad_force;
      const double grad_flce = grad_row(4) + grad_force * x.a * x.fv;
      const double grad_fv = grad_row(5) + grad_force * x.a * x.flce;

      // fv = max(where(v <= 0, shortening, lengthening), 0)
      const double grad_fv_raw = x.fv_raw >= 0.0 ? grad_fv : 0.0;
      if (x.velocity <= 0.0) {
        // shortening = Af (3 a vmax + 4 vs + vmax) / (3 a Af vmax + Af vmax - 4 vs)
        const double g = grad_fv_raw / x.short_den;
        const double q = grad_fv_raw * x.short_num / (x.short_den * x.short_den);
        grad_a += g * t::kAf * 3.0 * vmax - q * 3.0 * t::kAf * vmax;
        const double grad_vs = g * t::kAf * 4.0 + q * 4.0;
        grad_velocity += grad_vs;  // vs = min(v, 0) passes where v <= 0
      } else {
        // lengthening = (c2 a + c3 vl + c4) / (3 a c4 + c5 vl + c4)
        const double g = grad_fv_raw / x.long_den;
        const double q = grad_fv_raw * x.long_num / (x.long_den * x.long_den);
        grad_a += g * x.c2 - q * 3.0 * x.c4;
        grad_velocity += g * x.c3 - q * x.c5;  // vl = max(v, 0) passes where v >= 0
      }
      // flce = exp(-stretch² / gamma), stretch = length / l_ce - 1
      grad_length += grad_flce * x.flce * (-2.0 * x.stretch / t::kGamma) / l_ce;
      // flpe = max((exp(k (length - slack) / (e0 l_ce)) - 1) / (e^k - 1), 0)
      if (x.flpe_raw >= 0.0)
        grad_length += grad_flpe * x.passive_exp * t::kPassiveShape / (t::kPassiveStrainAtF0 * l_ce) /
                       (std::exp(t::kPassiveShape) - 1.0);
      // length = max(L_mt - l_t, min length); velocity = L_mt'
      if (x.raw_length >= t::kMinLength) grad_geometry[m] += grad_length;
      grad_geometry[M + m] += grad_velocity;
      integrate_activation_vjp(m, h, derivative, state, grad_a, grad_derivative, grad_state);
    }
  }

 private:
  ThelenPoint evaluate(int64_t m, double activation, const double* geometry) const {
    const int64_t M = n_muscles();
    const double l_ce = p_.optimal_muscle_length[m], vmax = p_.max_velocity[m];
    ThelenPoint x;
    x.a = activation;
    x.raw_length = geometry[m] - p_.tendon_length[m];
    x.length = std::max(x.raw_length, t::kMinLength);
    x.velocity = geometry[M + m];
    x.passive_exp = std::exp(t::kPassiveShape * (x.length - p_.slack_length[m]) / (t::kPassiveStrainAtF0 * l_ce));
    x.flpe_raw = (x.passive_exp - 1.0) / (std::exp(t::kPassiveShape) - 1.0);
    x.flpe = std::max(x.flpe_raw, 0.0);
    x.stretch = x.length / l_ce - 1.0;
    x.flce = std::exp(-(x.stretch * x.stretch) / t::kGamma);
    x.vs = std::min(x.velocity, 0.0);
    x.short_num = t::kAf * (3.0 * x.a * vmax + 4.0 * x.vs + vmax);
    x.short_den = 3.0 * x.a * t::kAf * vmax + t::kAf * vmax - 4.0 * x.vs;
    x.vl = std::max(x.velocity, 0.0);
    x.c2 = 3.0 * t::kAf * vmax * t::kFmlen - 3.0 * t::kAf * vmax;
    x.c3 = 8.0 * t::kAf * t::kFmlen + 8.0 * t::kFmlen;
    x.c4 = t::kAf * t::kFmlen * vmax - t::kAf * vmax;
    x.c5 = 8.0 * (t::kAf + 1.0);
    x.long_num = x.c2 * x.a + x.c3 * x.vl + x.c4;
    x.long_den = 3.0 * x.a * x.c4 + x.c5 * x.vl + x.c4;
    x.fv_raw = x.velocity <= 0.0 ? x.short_num / x.short_den : x.long_num / x.long_den;
    x.fv = std::max(x.fv_raw, 0.0);
    return x;
  }

  RigidTendonThelenParameters p_;
};

}  // namespace

std::shared_ptr<const MuscleKernel> make_rigid_tendon_thelen_kernel(ActivationParameters activation,
                                                                    RigidTendonThelenParameters parameters) {
  return std::make_shared<RigidTendonThelenKernel>(std::move(activation), std::move(parameters));
}

}  // namespace motornet::fused
