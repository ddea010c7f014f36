// Fused MujocoHillMuscle (SPEC §5.4, MuJoCo's muscle gain and bias curves): the same piecewise-quadratic curves as
// the op-by-op model, evaluated per muscle, with their derivatives written out. Each piece's derivative is taken
// where the op-by-op model's nested `where`s select that piece, so both give the same one-sided gradient at joins.
#include <algorithm>

#include "builtin_kernels.h"

namespace motornet::fused {
namespace {

constexpr int64_t kRows = 7;          // activation, length, velocity, flpe, flce, fv, force
constexpr double kMinLength = 0.001;  // m: fibre length floor

struct Piece {
  double value, slope;
};

class MujocoHillKernel final : public MuscleKernel {
 public:
  MujocoHillKernel(ActivationParameters activation, MujocoHillParameters parameters)
      : MuscleKernel(std::move(activation), kRows, /*force_row=*/6), p_(std::move(parameters)) {}

  void integrate(double h, const double* derivative, const double* state, const double* geometry,
                 double* next) const override {
    const int64_t M = n_muscles();
    for (int64_t m = 0; m < M; ++m) {
      const double a = integrate_activation(m, h, derivative, state);
      const double L = normalised_length(m, geometry), V = geometry[M + m] / (p_.optimal_muscle_length[m] * p_.vmax[m]);
      const double flpe = passive(m, L).value, flce = active(m, L).value, fv = velocity(m, V).value;
      const double values[kRows] = {a,    L * p_.optimal_muscle_length[m], geometry[M + m], flpe, flce, fv,
                                    (a * flce * fv + p_.passive_forces[m] * flpe) * p_.max_isometric_force[m]};
      for (int64_t r = 0; r < kRows; ++r) next[r * M + m] = values[r];
    }
  }

  void integrate_vjp(double h, const double* derivative, const double* state, const double* geometry,
                     const double* grad_next, double* grad_derivative, double* grad_state,
                     double* grad_geometry) const override {
    const int64_t M = n_muscles();
    for (int64_t m = 0; m < M; ++m) {
      const double l0 = p_.optimal_muscle_length[m], v_scale = l0 * p_.vmax[m];
      const double a = integrate_activation(m, h, derivative, state);
      const double L = normalised_length(m, geometry), V = geometry[M + m] / v_scale;
      const Piece flpe = passive(m, L), flce = active(m, L), fv = velocity(m, V);
      auto grad_row = [&](int64_t r) { return grad_next[r * M + m]; };
      // force = (a flce fv + passive_forces flpe) F_max
      const double grad_force = grad_row(6) * p_.max_isometric_force[m];
      const double grad_a = grad_row(0) + grad_force * flce.value * fv.value;
      const double grad_flpe = grad_row(3) + grad_force * p_.passive_forces[m];
      const double grad_flce = grad_row(4) + grad_force * a * fv.value;
      const double grad_fv = grad_row(5) + grad_force * a * flce.value;
      // Row 1 is L l0; L = max(L_mt - l_t, min length) / l0; row 2 and V come from L_mt'.
      const double grad_L = grad_row(1) * l0 + grad_flpe * flpe.slope + grad_flce * flce.slope;
      const double grad_velocity = grad_row(2) + grad_fv * fv.slope / v_scale;
      if (geometry[m] - p_.tendon_length[m] >= kMinLength) grad_geometry[m] += grad_L / l0;
      grad_geometry[M + m] += grad_velocity;
      integrate_activation_vjp(m, h, derivative, state, grad_a, grad_derivative, grad_state);
    }
  }

 private:
  double normalised_length(int64_t m, const double* geometry) const {
    return std::max(geometry[m] - p_.tendon_length[m], kMinLength) / p_.optimal_muscle_length[m];
  }

  // 0 up to the optimal length, half-quadratic up to b = (1 + lmax)/2, then linear; scaled by passive_max.
  Piece passive(int64_t m, double L) const {
    const double b = 0.5 * (1.0 + p_.lmax[m]), scale = p_.passive_max[m];
    if (L <= 1.0) return {0.0, 0.0};
    const double x = (L - 1.0) / (b - 1.0);
    if (L <= b) return {scale * 0.5 * x * x, scale * x / (b - 1.0)};
    return {scale * (0.5 + (L - b) / (b - 1.0)), scale / (b - 1.0)};
  }

  // Two quadratic pieces on each side of the optimum, 0 outside [lmin, lmax].
  Piece active(int64_t m, double L) const {
    const double lmin = p_.lmin[m], lmax = p_.lmax[m];
    if (L < lmin || L > lmax) return {0.0, 0.0};
    const double left = 0.5 * (lmin + 1.0), right = 0.5 * (1.0 + lmax);
    if (L <= left) {
      const double w = left - lmin, x = (L - lmin) / w;
      return {0.5 * x * x, x / w};
    }
    if (L <= 1.0) {
      const double w = 1.0 - left, x = (1.0 - L) / w;
      return {1.0 - 0.5 * x * x, x / w};
    }
    if (L <= right) {
      const double w = right - 1.0, x = (L - 1.0) / w;
      return {1.0 - 0.5 * x * x, -x / w};
    }
    const double w = lmax - right, x = (lmax - L) / w;
    return {0.5 * x * x, -x / w};
  }

  // 0 below -1, quadratic rise to 1 at V = 0, quadratic to fvmax at V = c = fvmax - 1, then flat.
  Piece velocity(int64_t m, double V) const {
    const double fvmax = p_.fvmax[m], c = fvmax - 1.0;
    if (V <= -1.0) return {0.0, 0.0};
    if (V <= 0.0) return {(V + 1.0) * (V + 1.0), 2.0 * (V + 1.0)};
    if (V <= c) return {fvmax - (c - V) * (c - V) / c, 2.0 * (c - V) / c};
    return {fvmax, 0.0};
  }

  MujocoHillParameters p_;
};

}  // namespace

std::shared_ptr<const MuscleKernel> make_mujoco_hill_kernel(ActivationParameters activation,
                                                            MujocoHillParameters parameters) {
  return std::make_shared<MujocoHillKernel>(std::move(activation), std::move(parameters));
}

}  // namespace motornet::fused
