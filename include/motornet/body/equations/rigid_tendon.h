#pragma once
// What every rigid-tendon muscle model shares (SPEC §5): the only integrated state is the activation, and the
// other rows follow from the new activation and the musculotendon length and velocity. A model derives from
// RigidTendonEquations<Model> and states its rows once:
//
//   template <class T, class P>
//   static std::array<T, K> state(const Parameters<P>& p, const T& activation, const T& musculotendon_length,
//                                 const T& musculotendon_velocity);
//
// (see relu_muscle.h for the smallest example and equation_muscle.h for the whole contract).

#include <array>

#include "motornet/body/equations/activation.h"

namespace motornet::equations {

template <class Model>
struct RigidTendonEquations {
  static constexpr int kDerivatives = 1;                 // d activation / dt
  static constexpr std::array<int, 1> kOdeReads = {0};   // the state rows `ode` reads: activation
  static constexpr std::array<int, 1> kIntegrateReads = {0};

  // No derived constants and nothing to check unless the model says so.
  template <class Parameters>
  static void derive(Parameters&) {}
  template <class Parameters>
  static void check(const Parameters&) {}

  template <class T, class Parameters>
  static std::array<T, 1> ode(const Parameters& p, const T& excitation, const std::array<T, 1>& rows) {
    return {activation_rate(p.activation, excitation, rows[0])};
  }

  template <class T, class Parameters>
  static auto integrate(const Parameters& p, double h, const std::array<T, 1>& derivative,
                        const std::array<T, 1>& rows, const T& musculotendon_length, const T& musculotendon_velocity) {
    return Model::state(p, integrate_activation(p.activation, h, rows[0], derivative[0]), musculotendon_length,
                        musculotendon_velocity);
  }

  // SPEC §5: at rest the activation is a_min (one step h of a zero derivative from a_min).
  template <class T, class Parameters>
  static auto rest(const Parameters& p, double /*h*/, const T& musculotendon_length,
                   const T& musculotendon_velocity) {
    return Model::state(p, broadcast(p.activation.min_activation, musculotendon_length), musculotendon_length,
                        musculotendon_velocity);
  }
};

}  // namespace motornet::equations
