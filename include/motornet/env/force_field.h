#pragma once
// Forces applied to the hand (endpoint loads) at every step of an episode: force fields, mechanical
// perturbations and force channels. Each can be limited to a fraction of trials, to a time window, and to the
// time after the go cue. Fields compute from the effector state at the start of the step.
//
// Every built-in field states its equation once, as an affine function of the hand state (AffineForce) with a
// per-step, per-trial switch (ForceField::on_steps). The op-by-op step evaluates it with tensor ops; the fused
// environment step evaluates all of a task's fields in one kernel with their exact backward, and skips a step
// at which no field applies to any trial. A user field (a subclass of ForceField; the built-ins are final, so
// that no subclass can change one path's equation and not the other's) either gives an affine_force, and is
// fused like them, or overrides raw_force with any tensor expression of the state, and runs op by op.

#include <torch/torch.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "motornet/body/effector.h"
#include "motornet/core/option_table.h"
#include "motornet/env/trials.h"

namespace motornet {

struct ForceFieldOptions {
  TORCH_ARG(std::string, name) = "";      // how it is reported in the step info (default: its type and index)
  TORCH_ARG(double, fraction) = 1.0;      // fraction of trials it applies to (drawn per trial)
  TORCH_ARG(double, start_time) = 0.0;    // s: active from this time ...
  TORCH_ARG(double, end_time) = INFINITY;  // s: ... until before this time
  TORCH_ARG(bool, off_before_go_cue) = false;
};

// The keys every field's YAML block takes, their defaults and checks (core/option_table.h).
const OptionTable<ForceFieldOptions>& force_field_option_table();

// A field's force on a trial where it applies, affine in the hand position p and velocity v [S] at the start of
// the step: F = P (p - a) + V v + c. Each part is per trial; an undefined part is zero (the anchor: the origin).
struct AffineForce {
  torch::Tensor position_gain;  // P [B, S, S], N/m
  torch::Tensor anchor;         // a [B, S], m
  torch::Tensor velocity_gain;  // V [B, S, S], N s/m
  torch::Tensor bias;           // c [B, S], N

  // F [B, S] for the hand state `cartesian` [B, 2S] (tensor ops, differentiable in the state).
  torch::Tensor evaluate(const torch::Tensor& cartesian) const;
};

class ForceField {
 public:
  explicit ForceField(ForceFieldOptions options);
  virtual ~ForceField() = default;

  virtual std::string type_name() const = 0;
  const ForceFieldOptions& options() const { return options_; }

  // Per-trial draws (which trials it applies to; pulses also draw onset and direction).
  virtual FieldTrials sample(int64_t batch_size, int64_t space_dim, double timestep, torch::Generator& generator) const;
  // Force [B, S] at `step` (0-based: the step from state `step` to `step + 1`), zero where it does not apply.
  torch::Tensor force(int64_t step, double timestep, const EffectorState& state, const Trials& trials,
                      const FieldTrials& draws) const;

  // Where and when the field applies: [count, B] float64, 1 at (step first + i, trial b) if it applies there,
  // else 0 (its fraction draw, its time window, the go cue; pulses add their own timing).
  virtual torch::Tensor on_steps(int64_t first, int64_t count, double timestep, const Trials& trials,
                                 const FieldTrials& draws) const;
  // The field's equation for this episode's trials (float64), or nullopt for a field defined by raw_force alone.
  virtual std::optional<AffineForce> affine_force(int64_t space_dim, const Trials& trials,
                                                  const FieldTrials& draws) const {
    return std::nullopt;
  }

 protected:
  // The force where the field applies, before on_steps' switch, for a field without an affine_force (one with
  // an affine_force is evaluated from it on both paths, and this is not called).
  virtual torch::Tensor raw_force(int64_t step, double timestep, const EffectorState& state, const Trials& trials,
                                  const FieldTrials& draws) const;

 private:
  // The field's time window in steps: [first_step, end_step).
  int64_t first_step(double timestep) const;
  int64_t end_step(double timestep) const;

  ForceFieldOptions options_;
};

// Curl field F = k [[0, 1], [-1, 0]] v on the hand velocity v: k > 0 pushes the hand to the right of its
// motion (the force is the velocity turned 90° clockwise), k < 0 to the left (counter-clockwise). Planar only.
class CurlField final : public ForceField {
 public:
  CurlField(double strength, ForceFieldOptions options = {});
  std::string type_name() const override { return "curl"; }
  std::optional<AffineForce> affine_force(int64_t space_dim, const Trials& trials,
                                          const FieldTrials& draws) const override;

 private:
  double strength_;  // N s/m
};

// Viscous field F = -b v.
class ViscousField final : public ForceField {
 public:
  ViscousField(double viscosity, ForceFieldOptions options = {});
  std::string type_name() const override { return "viscous"; }
  std::optional<AffineForce> affine_force(int64_t space_dim, const Trials& trials,
                                          const FieldTrials& draws) const override;

 private:
  double viscosity_;  // N s/m
};

// A constant endpoint force [S] (N).
class ConstantLoad final : public ForceField {
 public:
  ConstantLoad(std::vector<double> force, ForceFieldOptions options = {});
  std::string type_name() const override { return "constant"; }
  std::optional<AffineForce> affine_force(int64_t space_dim, const Trials& trials,
                                          const FieldTrials& draws) const override;

 private:
  std::vector<double> force_;
};

// Mechanical perturbation: a force pulse of `magnitude` N lasting `duration` s, starting at a random time in
// [onset_earliest, onset_latest] s, in a direction drawn from `directions` (unit vectors [S] each).
struct ForcePulseOptions {
  TORCH_ARG(double, magnitude) = 10.0;
  TORCH_ARG(double, duration) = 0.05;
  TORCH_ARG(double, onset_earliest) = 0.1;
  TORCH_ARG(double, onset_latest) = 0.3;
  TORCH_ARG(std::vector<std::vector<double>>, directions) = {};
};

class ForcePulse final : public ForceField {
 public:
  ForcePulse(ForcePulseOptions pulse, ForceFieldOptions options = {});
  std::string type_name() const override { return "pulse"; }
  FieldTrials sample(int64_t batch_size, int64_t space_dim, double timestep, torch::Generator& generator) const override;
  // On during the pulse of each trial, besides the base switch.
  torch::Tensor on_steps(int64_t first, int64_t count, double timestep, const Trials& trials,
                         const FieldTrials& draws) const override;
  std::optional<AffineForce> affine_force(int64_t space_dim, const Trials& trials,
                                          const FieldTrials& draws) const override;

 private:
  ForcePulseOptions pulse_;
};

// Force channel (error clamp): a spring-damper wall F = -(K e + B e') on the hand's deviation e from the
// straight line between start and target (the component of hand position perpendicular to it).
class ForceChannel final : public ForceField {
 public:
  ForceChannel(double stiffness, double damping, ForceFieldOptions options = {});
  std::string type_name() const override { return "channel"; }
  std::optional<AffineForce> affine_force(int64_t space_dim, const Trials& trials,
                                          const FieldTrials& draws) const override;

 private:
  double stiffness_;  // N/m
  double damping_;    // N s/m
};

}  // namespace motornet
