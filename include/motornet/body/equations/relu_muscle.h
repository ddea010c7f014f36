#pragma once
// ReluMuscle (SPEC §5.1): force = a F0, with no length or velocity dependence; at rest it produces no force,
// whatever its minimum activation.

#include <array>

#include "motornet/body/equations/rigid_tendon.h"

namespace motornet::equations {

struct ReluMuscle : RigidTendonEquations<ReluMuscle> {
  static constexpr std::array<const char*, 4> kStateNames = {"activation", "muscle length", "muscle velocity",
                                                             "force"};

  template <class P>
  struct Parameters {
    ActivationParameters<P> activation;
    P max_isometric_force;
  };
  template <class P, class Fields>
  static void fields(Parameters<P>& p, Fields& f) {
    activation_fields(p.activation, f, /*min_activation=*/0.0);
    f.given(p.max_isometric_force, {"max_isometric_force", std::nullopt, MuscleParameterSpec::Range::kPositive});
  }

  template <class T, class P>
  static std::array<T, 4> state(const Parameters<P>& p, const T& a, const T& musculotendon_length,
                                const T& musculotendon_velocity) {
    return {a, musculotendon_length, musculotendon_velocity, a * p.max_isometric_force};
  }
  template <class T, class P>
  static std::array<T, 4> rest(const Parameters<P>& p, double h, const T& length, const T& velocity) {
    auto state = RigidTendonEquations::rest(p, h, length, velocity);
    state[3] = broadcast(0.0, length);
    return state;
  }

  // For proprioception its optimal length and vmax are 1.
  template <class P>
  static P proprioceptive_length_scale(const Parameters<P>& p) {
    return ones_like(p.max_isometric_force);
  }
  template <class P>
  static P proprioceptive_velocity_scale(const Parameters<P>& p) {
    return ones_like(p.max_isometric_force);
  }
};

}  // namespace motornet::equations
