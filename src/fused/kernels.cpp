// The parts every fused model shares: activation dynamics (SPEC §5) and the bounded semi-implicit joint
// integration (SPEC §2.1), mirroring MuscleImpl::activation_derivative/integrate_activation and
// SkeletonImpl::integrate op for op.
#include <vector>

#include "motornet/fused/kernels.h"

#include <algorithm>

namespace motornet::fused {

namespace {
// A clamp passes the gradient where the input lies within its bounds, ends included (as torch's clamp does).
inline bool within(double x, double lower, double upper) { return x >= lower && x <= upper; }
}  // namespace

MuscleKernel::MuscleKernel(ActivationParameters activation, int64_t n_states, int64_t force_row,
                           int64_t n_derivatives)
    : activation_(std::move(activation)), n_states_(n_states), force_row_(force_row), n_derivatives_(n_derivatives) {}

void MuscleKernel::ode(const double* excitation, const double* state, double* derivative) const {
  // k = (u - a) / tau, tau = tau_act s if u > a else tau_deact / s, s = 0.5 + 1.5 a; u and a clipped.
  const auto& p = activation_;
  for (int64_t m = 0; m < n_muscles(); ++m) {
    const double u = std::clamp(excitation[m], p.min_activation[m], 1.0);
    const double a = std::clamp(state[m], p.min_activation[m], 1.0);
    const double s = 0.5 + 1.5 * a;
    const double tau = u > a ? p.tau_activation[m] * s : p.tau_deactivation[m] / s;
    derivative[m] = (u - a) / tau;
  }
}

void MuscleKernel::ode_vjp(const double* excitation, const double* state, const double* grad_derivative,
                           double* grad_excitation, double* grad_state) const {
  const auto& p = activation_;
  for (int64_t m = 0; m < n_muscles(); ++m) {
    const double lower = p.min_activation[m];
    const double u = std::clamp(excitation[m], lower, 1.0);
    const double a = std::clamp(state[m], lower, 1.0);
    const double s = 0.5 + 1.5 * a;
    const bool activating = u > a;
    const double tau = activating ? p.tau_activation[m] * s : p.tau_deactivation[m] / s;
    const double dtau_da = activating ? 1.5 * p.tau_activation[m] : -1.5 * p.tau_deactivation[m] / (s * s);
    const double g = grad_derivative[m];
    const double grad_u = g / tau;
    const double grad_a = -g / tau - g * (u - a) / (tau * tau) * dtau_da;
    if (within(excitation[m], lower, 1.0)) grad_excitation[m] += grad_u;
    if (within(state[m], lower, 1.0)) grad_state[m] += grad_a;
  }
}

void MuscleKernel::initial_state(double h, const double* geometry, double* state) const {
  const int64_t M = n_muscles();
  std::vector<double> rest(n_states_ * M, 0.0), zero_derivative(n_derivatives() * M, 0.0);
  for (int64_t m = 0; m < M; ++m) rest[m] = min_activation(m);  // activation is row 0
  integrate(h, zero_derivative.data(), rest.data(), geometry, state);
}

double MuscleKernel::integrate_activation(int64_t m, double h, const double* derivative, const double* state) const {
  return std::clamp(state[m] + derivative[m] * h, activation_.min_activation[m], 1.0);
}

void MuscleKernel::integrate_activation_vjp(int64_t m, double h, const double* derivative, const double* state,
                                            double grad_activation, double* grad_derivative,
                                            double* grad_state) const {
  if (!within(state[m] + derivative[m] * h, activation_.min_activation[m], 1.0)) return;
  grad_state[m] += grad_activation;
  grad_derivative[m] += grad_activation * h;
}

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
