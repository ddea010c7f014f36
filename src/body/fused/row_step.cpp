#include "body/fused/row_step.h"

#include "motornet/body/equations/ops.h"
#include "motornet/body/equations/pullback.h"

#include <algorithm>
#include <stdexcept>

namespace motornet::fused {

RowLayout::RowLayout(int64_t dof, int64_t space_dim, int64_t n_states, int64_t n_muscles, int64_t n_derivatives)
    : D(dof), S(space_dim), K(n_states), M(n_muscles), ND(n_derivatives) {
  muscle = 2 * D;
  geometry = muscle + K * M;
  stage = geometry + (2 + D) * M;
  muscle_derivative = D;
  derivative = D + ND * M;
}

RowLayout::RowLayout(const StepKernels& k)
    : RowLayout(k.skeleton->dof(), k.skeleton->space_dim(), k.muscle->n_states(), k.muscle->n_muscles(),
                k.muscle->n_derivatives()) {}

bool has_row_lanes(const StepKernels& k) {
  return k.muscle->has_row_lanes() && k.skeleton->has_row_lanes() && k.geometry->has_row_lanes();
}

namespace {
// The excitation: the action clipped to [a_min, 1] with the equations' clip (ops.h; a block clips lane by lane).
template <class T>
T clamp_excitation(const T& action, double min_activation) {
  return equations::clip(action, min_activation, 1.0);
}
// The clip passes the excitation's gradient where the action lies within its bounds, ends included.
template <class T>
T excitation_gradient(const T& action, double min_activation, const T& grad_excitation) {
  using equations::logical_and;
  return equations::where(logical_and(action >= min_activation, action <= 1.0), grad_excitation, T(0.0));
}
}  // namespace

template <class T>
BasicRowStep<T>::BasicRowStep(StepKernels kernels) : k_(std::move(kernels)), layout_(k_) {
  if (layout_.D > kMaxDof) throw std::invalid_argument("RowStep: too many dofs");
  if (k_.n_ministeps < 1) throw std::invalid_argument("RowStep: n_ministeps must be at least 1");
  if constexpr (std::is_same_v<T, RowLanes>)
    if (!has_row_lanes(k_)) throw std::logic_error("RowLaneStep: a kernel of this model has no block version");
  stages_per_ministep_ = k_.runge_kutta ? 4 : 1;       // s, then RK4's t2, t3, t4
  derivatives_per_ministep_ = k_.runge_kutta ? 5 : 1;  // k1, then k2, k3, k4 and the combination
  const auto& L = layout_;
  tape_stages_.resize(k_.n_ministeps * stages_per_ministep_ * L.stage);
  tape_derivatives_.resize(k_.n_ministeps * derivatives_per_ministep_ * L.derivative);
  // e, grad e | next joint, its gradient | two stage gradients, an RK4 stage gradient | five derivative gradients
  scratch_.resize(2 * L.M + 4 * L.D + 3 * L.stage + 5 * L.derivative);
}

template <class T>
void BasicRowStep<T>::excitation(const T* action, T* e) const {
  for (int64_t m = 0; m < layout_.M; ++m) e[m] = clamp_excitation(action[m], k_.muscle->min_activation(m));
}

template <class T>
void BasicRowStep<T>::torque(const T* stage, const RowInput& in, T* tau) const {
  // SPEC §2: tau = -sum_m force_m moment_{d,m} + joint_load - damping q'.
  const auto& L = layout_;
  const T* force = stage + L.muscle + k_.muscle->force_row() * L.M;
  const T* moments = stage + L.geometry + 2 * L.M;
  for (int64_t d = 0; d < L.D; ++d) {
    T sum = 0.0;
    for (int64_t m = 0; m < L.M; ++m) sum += moments[d * L.M + m] * force[m];
    tau[d] = -sum + (in.joint_load ? in.joint_load[d] : 0.0) - k_.damping * stage[L.D + d];
  }
}

template <class T>
void BasicRowStep<T>::derivative(const T* e, const T* stage, const RowInput& in, T* k) const {
  const auto& L = layout_;
  T tau[kMaxDof];
  torque(stage, in, tau);
  k_.muscle->ode(e, stage + L.muscle, k + L.muscle_derivative);
  k_.skeleton->ode(tau, stage + L.joint, in.endpoint_load, k + L.acceleration);
}

template <class T>
void BasicRowStep<T>::derivative_vjp(const T* e, const T* stage, const RowInput& in, const T* grad_k, T* grad_stage,
                                     T* grad_e, T* grad_endpoint_load, T* grad_joint_load) {
  const auto& L = layout_;
  const T* force = stage + L.muscle + k_.muscle->force_row() * L.M;
  const T* moments = stage + L.geometry + 2 * L.M;
  T tau[kMaxDof], grad_tau[kMaxDof] = {};
  torque(stage, in, tau);
  k_.muscle->ode_vjp(e, stage + L.muscle, grad_k + L.muscle_derivative, grad_e, grad_stage + L.muscle);
  k_.skeleton->ode_vjp(tau, stage + L.joint, in.endpoint_load, grad_k + L.acceleration, grad_tau,
                       grad_stage + L.joint, grad_endpoint_load);
  T* grad_force = grad_stage + L.muscle + k_.muscle->force_row() * L.M;
  T* grad_moments = grad_stage + L.geometry + 2 * L.M;
  for (int64_t d = 0; d < L.D; ++d) {
    if (in.joint_load) grad_joint_load[d] += grad_tau[d];
    grad_stage[L.D + d] -= k_.damping * grad_tau[d];
    for (int64_t m = 0; m < L.M; ++m) {
      grad_moments[d * L.M + m] -= grad_tau[d] * force[m];
      grad_force[m] -= grad_tau[d] * moments[d * L.M + m];
    }
  }
}

template <class T>
void BasicRowStep<T>::integrate(double h, const T* k, const T* stage, T* next) const {
  // SPEC §2: the muscle integrates against the geometry of the stage it starts from.
  const auto& L = layout_;
  k_.muscle->integrate(h, k + L.muscle_derivative, stage + L.muscle, stage + L.geometry, next + L.muscle);
  k_.skeleton->integrate(h, k + L.acceleration, stage + L.joint, next + L.joint);
  k_.geometry->forward(next + L.joint, next + L.geometry);
}

template <class T>
void BasicRowStep<T>::integrate_vjp(double h, const T* k, const T* stage, const T* grad_next, T* grad_k,
                                    T* grad_stage) {
  const auto& L = layout_;
  T* next_joint = scratch_.data() + 2 * L.M;
  T* grad_next_joint = next_joint + 2 * L.D;
  k_.skeleton->integrate(h, k + L.acceleration, stage + L.joint, next_joint);
  std::copy(grad_next + L.joint, grad_next + L.joint + 2 * L.D, grad_next_joint);
  k_.geometry->forward_vjp(next_joint, grad_next + L.geometry, grad_next_joint);
  k_.skeleton->integrate_vjp(h, k + L.acceleration, stage + L.joint, grad_next_joint, grad_k + L.acceleration,
                             grad_stage + L.joint);
  k_.muscle->integrate_vjp(h, k + L.muscle_derivative, stage + L.muscle, stage + L.geometry, grad_next + L.muscle,
                           grad_k + L.muscle_derivative, grad_stage + L.muscle, grad_stage + L.geometry);
}

template <class T>
void BasicRowStep<T>::run(const RowInput& in, const T* e, T* next_stage, bool record) {
  const auto& L = layout_;
  const double h = k_.ministep;
  std::vector<T>& S = tape_stages_;
  std::vector<T>& K = tape_derivatives_;
  const T* current = in.stage;
  for (int64_t i = 0; i < k_.n_ministeps; ++i) {
    // Without `record` every ministep reuses the first slot of the tape.
    T* stage = S.data() + (record ? i : 0) * stages_per_ministep_ * L.stage;
    T* k = K.data() + (record ? i : 0) * derivatives_per_ministep_ * L.derivative;
    std::copy(current, current + L.stage, stage);
    derivative(e, stage, in, k);
    if (!k_.runge_kutta) {
      integrate(h, k, stage, next_stage);
    } else {
      // Classical RK4 (SPEC §2): every stage starts from the state at the beginning of the ministep.
      T* t2 = stage + L.stage;
      T* t3 = t2 + L.stage;
      T* t4 = t3 + L.stage;
      T *k1 = k, *k2 = k + L.derivative, *k3 = k2 + L.derivative, *k4 = k3 + L.derivative,
        *combined = k4 + L.derivative;
      integrate(h / 2.0, k1, stage, t2);
      derivative(e, t2, in, k2);
      integrate(h / 2.0, k2, stage, t3);
      derivative(e, t3, in, k3);
      integrate(h, k3, stage, t4);
      derivative(e, t4, in, k4);
      for (int64_t j = 0; j < L.derivative; ++j) combined[j] = (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j]) / 6.0;
      integrate(h, combined, stage, next_stage);
    }
    current = next_stage;
  }
}

// The entry points are compiled for AVX2 and for any x86-64 (MOTORNET_KERNEL_LOOP), everything they call but the
// kernels inlined: a block's RowLanes are then one register each.
template <class T>
MOTORNET_KERNEL_LOOP void BasicRowStep<T>::forward(const RowInput& in, T* next_stage, T* cartesian) {
  T* e = scratch_.data();
  excitation(in.action, e);
  run(in, e, next_stage, /*record=*/false);
  k_.skeleton->to_cartesian(next_stage + layout_.joint, cartesian);
}

template <class T>
MOTORNET_KERNEL_LOOP void BasicRowStep<T>::backward(const RowInput& in, const T* grad_next_stage,
                                                    const T* grad_cartesian, T* grad_stage, T* grad_action,
                                                    T* grad_endpoint_load, T* grad_joint_load) {
  const auto& L = layout_;
  const double h = k_.ministep;
  T* e = scratch_.data();
  T* grad_e = e + L.M;
  T* grad_current = scratch_.data() + 2 * L.M + 4 * L.D;  // gradient of the stage after ministep i
  T* grad_previous = grad_current + L.stage;               // ... and before it
  T* grad_t = grad_previous + L.stage;                     // of an RK4 intermediate stage
  T* grad_k = grad_t + L.stage;                            // of k1..k4 and their combination

  excitation(in.action, e);
  std::fill(grad_e, grad_e + L.M, T(0.0));
  if (in.endpoint_load) std::fill(grad_endpoint_load, grad_endpoint_load + L.S, T(0.0));
  if (in.joint_load) std::fill(grad_joint_load, grad_joint_load + L.D, T(0.0));
  // Recompute the step, keeping every stage, then walk it backwards.
  T* final_stage = grad_previous;  // borrowed until the walk starts
  run(in, e, final_stage, /*record=*/true);
  std::copy(grad_next_stage, grad_next_stage + L.stage, grad_current);
  k_.skeleton->to_cartesian_vjp(final_stage + L.joint, grad_cartesian, grad_current + L.joint);

  for (int64_t i = k_.n_ministeps - 1; i >= 0; --i) {
    const T* stage = tape_stages_.data() + i * stages_per_ministep_ * L.stage;
    const T* k = tape_derivatives_.data() + i * derivatives_per_ministep_ * L.derivative;
    std::fill(grad_previous, grad_previous + L.stage, T(0.0));
    std::fill(grad_k, grad_k + derivatives_per_ministep_ * L.derivative, T(0.0));
    if (!k_.runge_kutta) {
      integrate_vjp(h, k, stage, grad_current, grad_k, grad_previous);
      derivative_vjp(e, stage, in, grad_k, grad_previous, grad_e, grad_endpoint_load, grad_joint_load);
    } else {
      const T *t2 = stage + L.stage, *t3 = t2 + L.stage, *t4 = t3 + L.stage;
      const T *k1 = k, *k2 = k + L.derivative, *k3 = k2 + L.derivative, *combined = k3 + 2 * L.derivative;
      T *g1 = grad_k, *g2 = g1 + L.derivative, *g3 = g2 + L.derivative, *g4 = g3 + L.derivative,
        *g_combined = g4 + L.derivative;
      integrate_vjp(h, combined, stage, grad_current, g_combined, grad_previous);
      for (int64_t j = 0; j < L.derivative; ++j) {
        g1[j] = g_combined[j] / 6.0;
        g2[j] = g_combined[j] * 2.0 / 6.0;
        g3[j] = g_combined[j] * 2.0 / 6.0;
        g4[j] = g_combined[j] / 6.0;
      }
      // k4 = f(t4), t4 = integrate(h, k3, s); k3 = f(t3), t3 = integrate(h/2, k2, s); k2 = f(t2), t2 = ...(k1).
      const T* stages[3] = {t2, t3, t4};
      const T* used[3] = {k1, k2, k3};
      T* grad_used[3] = {g1, g2, g3};
      T* grad_of[3] = {g2, g3, g4};
      const double sizes[3] = {h / 2.0, h / 2.0, h};
      for (int j = 2; j >= 0; --j) {
        std::fill(grad_t, grad_t + L.stage, T(0.0));
        derivative_vjp(e, stages[j], in, grad_of[j], grad_t, grad_e, grad_endpoint_load, grad_joint_load);
        integrate_vjp(sizes[j], used[j], stage, grad_t, grad_used[j], grad_previous);
      }
      derivative_vjp(e, stage, in, g1, grad_previous, grad_e, grad_endpoint_load, grad_joint_load);
    }
    std::swap(grad_current, grad_previous);
  }
  std::copy(grad_current, grad_current + L.stage, grad_stage);
  for (int64_t m = 0; m < L.M; ++m)
    grad_action[m] = excitation_gradient(in.action[m], k_.muscle->min_activation(m), grad_e[m]);
}

template class BasicRowStep<double>;
template class BasicRowStep<RowLanes>;

}  // namespace motornet::fused
