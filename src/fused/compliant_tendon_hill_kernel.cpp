// Fused CompliantTendonHillMuscle (SPEC §5.5, Kistemaker et al. 2010 with a compliant tendon): the fibre
// length is a state, advanced by the normalised fibre velocity at which the contractile element produces the
// active force that balances tendon and fibres (a second derivative row). The same curves and branch choices
// as the op-by-op model, with the chain rule written out by hand in reverse order.
#include <algorithm>
#include <cmath>

#include "../muscles/kistemaker_constants.h"
#include "builtin_kernels.h"
#include "kistemaker_active.h"
#include "motornet/error.h"

namespace motornet::fused {
namespace {
namespace k = kistemaker;

constexpr int64_t kRows = 7;                // activation, length, velocity, flpe, flse, active force, force
constexpr double kCollapsedLength = 0.001;  // fibre length (in l_ce) when the path is shorter than the tendon

// The force-velocity relation solved for the velocity: everything it depends on, kept for the backward pass.
struct VelocityPoint {
  double a, F;             // activation, normalised active force
  KistemakerActive curve;  // flce, a_rel, b_rel at the normalised fibre length
  double fa, g, den, p1, p2, p3;
  double short_den, shortening, discriminant, root, lengthening;
  bool concentric;  // F < fa: the shortening branch
};

VelocityPoint solve_velocity(double ln, double a, double F) {
  VelocityPoint x;
  x.a = a;
  x.F = F;
  x.curve = KistemakerActive(ln, a);
  const double a_rel = x.curve.a_rel, b_rel = x.curve.b_rel;
  x.fa = x.curve.flce * a;
  x.g = (x.fa + a * a_rel) / b_rel;
  x.den = k::kSas - 2.0 * x.g;
  x.p1 = -(x.fa / 2.0) / x.den;
  x.p3 = -1.5 * x.fa;
  x.p2 = -4.0 * (x.fa / 2.0) * (x.fa / 2.0) * k::kSas / x.den;
  x.short_den = F + a * a_rel;
  x.shortening = (b_rel * (F - x.fa)) / x.short_den;
  const double s = k::kSas;
  x.discriminant = F * F + 2.0 * F * x.p1 * s + 2.0 * F * x.p3 + x.p1 * x.p1 * s * s + 2.0 * x.p1 * x.p3 * s + x.p2 +
                   x.p3 * x.p3;
  x.concentric = F < x.fa;
  x.root = std::sqrt(x.concentric ? 1.0 : std::max(x.discriminant, 0.0));
  x.lengthening = (-F + x.p1 * s - x.p3 - x.root) / (-2.0 * s);
  return x;
}

double velocity_of(const VelocityPoint& x) { return x.concentric ? x.shortening : x.lengthening; }

// Adds d velocity / d (ln, a, F) times `grad` to the three gradients.
void solve_velocity_vjp(const VelocityPoint& x, double grad, double& grad_ln, double& grad_a, double& grad_F) {
  const double s = k::kSas;
  double grad_fa = 0.0, grad_a_rel = 0.0, grad_b_rel = 0.0;
  if (x.concentric) {
    // shortening = b_rel (F - fa) / (F + a a_rel)
    const double q = grad / x.short_den;
    grad_F += q * (x.curve.b_rel - x.shortening);
    grad_fa += -q * x.curve.b_rel;
    grad_b_rel += q * (x.F - x.fa);
    grad_a += -q * x.shortening * x.curve.a_rel;
    grad_a_rel += -q * x.shortening * x.a;
  } else {
    // lengthening = (-F + p1 s - p3 - root) / (-2 s), root = sqrt(max(discriminant, 0))
    const double c = 1.0 / (-2.0 * s);
    const double grad_root = -grad * c;
    // A clamp passes the gradient at its bound (as torch's does); sqrt' is then infinite, as op by op.
    const double grad_disc = x.discriminant >= 0.0 ? grad_root * 0.5 / x.root : 0.0;
    const double d_F = 2.0 * x.F + 2.0 * x.p1 * s + 2.0 * x.p3;  // d discriminant / dF (and / d p3)
    grad_F += -grad * c + grad_disc * d_F;
    const double grad_p1 = grad * s * c + grad_disc * (2.0 * x.F * s + 2.0 * x.p1 * s * s + 2.0 * x.p3 * s);
    const double grad_p3 = -grad * c + grad_disc * d_F;
    const double grad_p2 = grad_disc;
    // p1 = -(fa/2)/den, p2 = -4 (fa/2)² s / den, p3 = -1.5 fa, den = s - 2 g
    const double half = x.fa / 2.0;
    grad_fa += -0.5 * grad_p1 / x.den - 4.0 * s * half * grad_p2 / x.den - 1.5 * grad_p3;
    const double grad_den = grad_p1 * half / (x.den * x.den) + grad_p2 * 4.0 * half * half * s / (x.den * x.den);
    const double grad_g = -2.0 * grad_den;
    // g = (fa + a a_rel) / b_rel
    grad_fa += grad_g / x.curve.b_rel;
    grad_a += grad_g * x.curve.a_rel / x.curve.b_rel;
    grad_a_rel += grad_g * x.a / x.curve.b_rel;
    grad_b_rel += -grad_g * x.g / x.curve.b_rel;
  }
  // fa = flce a
  const double grad_flce = grad_fa * x.a;
  grad_a += grad_fa * x.curve.flce;
  x.curve.vjp(grad_flce, grad_a_rel, grad_b_rel, grad_ln, grad_a);
}

class CompliantTendonHillKernel final : public MuscleKernel {
 public:
  CompliantTendonHillKernel(ActivationParameters activation, RigidTendonHillParameters parameters)
      : MuscleKernel(std::move(activation), kRows, /*force_row=*/6, /*n_derivatives=*/2), p_(std::move(parameters)) {}

  void ode(const double* excitation, const double* state, double* derivative) const override {
    MuscleKernel::ode(excitation, state, derivative);  // row 0: activation rate
    const int64_t M = n_muscles();
    for (int64_t m = 0; m < M; ++m)
      derivative[M + m] =
          velocity_of(solve_velocity(state[M + m] / p_.optimal_muscle_length[m], state[m], state[5 * M + m]));
  }

  void ode_vjp(const double* excitation, const double* state, const double* grad_derivative, double* grad_excitation,
               double* grad_state) const override {
    MuscleKernel::ode_vjp(excitation, state, grad_derivative, grad_excitation, grad_state);
    const int64_t M = n_muscles();
    for (int64_t m = 0; m < M; ++m) {
      const auto x = solve_velocity(state[M + m] / p_.optimal_muscle_length[m], state[m], state[5 * M + m]);
      double grad_ln = 0.0;
      solve_velocity_vjp(x, grad_derivative[M + m], grad_ln, grad_state[m], grad_state[5 * M + m]);
      grad_state[M + m] += grad_ln / p_.optimal_muscle_length[m];
    }
  }

  void integrate(double h, const double* derivative, const double* state, const double* geometry,
                 double* next) const override {
    const int64_t M = n_muscles();
    for (int64_t m = 0; m < M; ++m) {
      const Forces f = forces(m, geometry[m], state[M + m]);
      const double l_ce = p_.optimal_muscle_length[m], rate = derivative[M + m];
      const double values[kRows] = {integrate_activation(m, h, derivative, state),
                                    (state[M + m] / l_ce + h * rate) * l_ce,
                                    rate * p_.max_velocity[m],
                                    f.flpe,
                                    f.flse,
                                    f.active,
                                    f.flse * p_.max_isometric_force[m]};
      for (int64_t r = 0; r < kRows; ++r) next[r * M + m] = values[r];
    }
  }

  void integrate_vjp(double h, const double* derivative, const double* state, const double* geometry,
                     const double* grad_next, double* grad_derivative, double* grad_state,
                     double* grad_geometry) const override {
    const int64_t M = n_muscles();
    for (int64_t m = 0; m < M; ++m) {
      auto grad_row = [&](int64_t r) { return grad_next[r * M + m]; };
      const double length = state[M + m], l_ce = p_.optimal_muscle_length[m];
      const Forces f = forces(m, geometry[m], length);
      // new length = (length / l_ce + h rate) l_ce; velocity = rate vmax
      const double grad_inner = grad_row(1) * l_ce;
      double grad_length = grad_inner / l_ce;
      grad_derivative[M + m] += grad_inner * h + grad_row(2) * p_.max_velocity[m];
      // active = max(flse - flpe, 0); force = flse f_max
      const double grad_active = f.active_raw >= 0.0 ? grad_row(5) : 0.0;
      const double grad_flse = grad_row(4) + grad_row(6) * p_.max_isometric_force[m] + grad_active;
      const double grad_flpe = grad_row(3) - grad_active;
      forces_vjp(m, f, grad_flse, grad_flpe, grad_geometry[m], grad_length);
      grad_state[M + m] += grad_length;
      integrate_activation_vjp(m, h, derivative, state, grad_row(0), grad_derivative, grad_state);
    }
  }

  void initial_state(double h, const double* geometry, double* state) const override {
    // SPEC §5.5: the fibre length where tendon and passive fibre forces balance, at minimum activation, then one
    // step h with the velocity that length implies.
    const int64_t M = n_muscles();
    std::vector<double> rest(kRows * M, 0.0), derivative(2 * M, 0.0);
    for (int64_t m = 0; m < M; ++m) {
      const double mt = geometry[m];
      if (mt < 0.0)
        throw InputError("initial_joint_state",
                         "the musculotendon length of a compliant-tendon muscle is negative in this posture");
      const double l_se = p_.tendon_length[m], l_ce = p_.optimal_muscle_length[m], l_pe = p_.slack_length[m],
                   k_pe = p_.passive_stiffness[m], k_se = k::kTendonStiffness;
      const double balanced = (k_pe * l_pe * l_se * l_se - k_se * l_ce * l_ce * mt + k_se * l_ce * l_ce * l_se -
                               l_ce * l_se * std::sqrt(k_se) * std::sqrt(k_pe) * (l_pe + l_se - mt)) /
                              (k_pe * l_se * l_se - k_se * l_ce * l_ce);
      const double length = mt < l_se ? kCollapsedLength * l_ce : mt < l_se + l_pe ? mt - l_se : balanced;
      const Forces f = forces(m, mt, length);
      const double active = std::max(f.flse - std::min(f.flpe, 1.0), 0.0);
      rest[m] = min_activation(m);
      rest[M + m] = length;
      derivative[M + m] = velocity_of(solve_velocity(length / l_ce, min_activation(m), active));
    }
    integrate(h, derivative.data(), rest.data(), geometry, state);
  }

 private:
  // Tendon and passive fibre forces for musculotendon length `mt` and fibre length `length`.
  struct Forces {
    double strain_raw, strain, flse_raw, flse, stretch_raw, flpe, active_raw, active;
  };
  Forces forces(int64_t m, double mt, double length) const {
    Forces f;
    const double l_se = p_.tendon_length[m];
    f.strain_raw = ((mt - length) - l_se) / l_se;
    f.strain = std::max(f.strain_raw, 0.0);
    f.flse_raw = k::kTendonStiffness * f.strain * f.strain;
    f.flse = std::min(f.flse_raw, 1.0);
    f.stretch_raw = (length - p_.slack_length[m]) / p_.optimal_muscle_length[m];
    const double stretch = std::max(f.stretch_raw, 0.0);
    f.flpe = p_.passive_stiffness[m] * stretch * stretch;
    f.active_raw = f.flse - f.flpe;
    f.active = std::max(f.active_raw, 0.0);
    return f;
  }
  // Adds the gradients of musculotendon length and fibre length from those of flse and flpe.
  void forces_vjp(int64_t m, const Forces& f, double grad_flse, double grad_flpe, double& grad_mt,
                  double& grad_length) const {
    if (f.flse_raw <= 1.0 && f.strain_raw >= 0.0) {  // both clamps pass the gradient at their bounds
      const double grad_tendon = grad_flse * 2.0 * k::kTendonStiffness * f.strain / p_.tendon_length[m];
      grad_mt += grad_tendon;
      grad_length -= grad_tendon;
    }
    if (f.stretch_raw >= 0.0)
      grad_length += grad_flpe * 2.0 * p_.passive_stiffness[m] * f.stretch_raw / p_.optimal_muscle_length[m];
  }

  RigidTendonHillParameters p_;
};

}  // namespace

std::shared_ptr<const MuscleKernel> make_compliant_tendon_hill_kernel(ActivationParameters activation,
                                                                      RigidTendonHillParameters parameters) {
  return std::make_shared<CompliantTendonHillKernel>(std::move(activation), std::move(parameters));
}

}  // namespace motornet::fused
