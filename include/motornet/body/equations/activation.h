#pragma once
// Activation dynamics shared by every muscle model (SPEC §5; Thelen 2003, the same as MuJoCo's), written once
// over the number type (ops.h).

#include "motornet/body/equations/ops.h"
#include "motornet/body/equations/parameter_spec.h"

namespace motornet::equations {

template <class P>
struct ActivationParameters {
  P min_activation, tau_activation, tau_deactivation;
};

// Declares the three parameters with a model's defaults (see EquationMuscleImpl for `Fields`).
template <class P, class Fields>
void activation_fields(ActivationParameters<P>& p, Fields& fields, double min_activation,
                       double tau_activation = 0.015, double tau_deactivation = 0.05) {
  using Range = MuscleParameterSpec::Range;
  fields.given(p.min_activation, {"min_activation", min_activation, Range::kActivation});
  fields.given(p.tau_activation, {"tau_activation", tau_activation, Range::kPositive});
  fields.given(p.tau_deactivation, {"tau_deactivation", tau_deactivation, Range::kPositive});
}

// da/dt = (u - a)/tau with u, a clipped to [a_min, 1], s = 0.5 + 1.5 a and tau = tau_act s when activating,
// tau_deact / s otherwise.
template <class T, class P>
T activation_rate(const ActivationParameters<P>& p, const T& excitation, const T& activation) {
  auto u = clip(excitation, p.min_activation, 1.0);
  auto a = clip(activation, p.min_activation, 1.0);
  auto s = 0.5 + 1.5 * a;
  auto tau = where(u > a, p.tau_activation * s, p.tau_deactivation / s);
  return (u - a) / tau;
}

// a' = clip(a + h da/dt, a_min, 1): the first line of every muscle's integration step.
template <class T, class P>
T integrate_activation(const ActivationParameters<P>& p, double h, const T& activation, const T& rate) {
  return clip(activation + rate * h, p.min_activation, 1.0);
}

}  // namespace motornet::equations
