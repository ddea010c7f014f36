#pragma once
// The Muscle interface (SPEC §5). A muscle module describes all M muscles of an effector at once: each model
// parameter is a buffer of shape [M] (one value per muscle), so every computation is batched over muscles.
// Muscle states are tensors [B, K, M] with the K rows named by `state_names()`; row 0 is always the
// activation and one row is always "force" (N).

#include <torch/torch.h>

#include "motornet/body/equations/activation.h"
#include "motornet/body/equations/parameter_spec.h"
#include "motornet/core/exact_module.h"
#include "motornet/body/fused/kernels.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace motornet {

// Per-muscle parameter values by name, e.g. {"max_isometric_force": 500, "tendon_length": 0.1}.
using MuscleParameters = std::map<std::string, double>;

// One muscle to build: its name, its own parameter values (which override the model-wide ones) and where it
// came from in a configuration (for error messages; may be empty).
struct MuscleEntry {
  std::string name;
  MuscleParameters parameters;
  std::string config_path;
};

class MuscleImpl : public ExactModule {
 public:
  // `shared_parameters` apply to every muscle unless a muscle gives its own value; `config_path` names them in
  // error messages.
  explicit MuscleImpl(MuscleParameters shared_parameters = {}, std::string config_path = "");
  ~MuscleImpl() override = default;

  virtual std::string type_name() const = 0;
  virtual std::vector<std::string> state_names() const = 0;
  virtual std::vector<MuscleParameterSpec> parameter_specs() const = 0;
  // Number of rows of the derivative returned by `ode` (1: activation only; 2 for a compliant tendon).
  virtual int64_t n_derivatives() const { return 1; }

  // Time derivative of the integrated muscle states: [B, n_derivatives, M], row 0 = d activation / dt.
  virtual torch::Tensor ode(const torch::Tensor& excitation, const torch::Tensor& muscle_state) const = 0;
  // One step of size h: the new muscle state from the derivative, the old state and the old geometry.
  virtual torch::Tensor integrate(double h, const torch::Tensor& derivative, const torch::Tensor& muscle_state,
                                  const torch::Tensor& geometry_state) const = 0;
  // The state at rest (activation = min_activation) for a geometry [B, 2+D, M].
  virtual torch::Tensor initial_state(const torch::Tensor& geometry_state) const;

  // Scales that normalise muscle length and velocity for proprioception (SPEC §7), each [M].
  virtual torch::Tensor proprioceptive_length_scale() const = 0;
  virtual torch::Tensor proprioceptive_velocity_scale() const = 0;
  // Both, stacked [2, M] (length, then velocity): what the senses divide the two adjacent state rows by.
  torch::Tensor proprioceptive_scales() const {
    return torch::stack({proprioceptive_length_scale(), proprioceptive_velocity_scale()});
  }
  // This model's fused CPU kernel with the current parameter values (fused/kernels.h), or nullptr: the
  // effector then steps op by op. Models written as an equation set (body/equation_muscle.h) have one.
  virtual std::shared_ptr<const fused::MuscleKernel> fused_kernel() const { return nullptr; }

  // (Re)builds the per-muscle parameter buffers for these muscles; `ministep` is the integration step h used
  // by `initial_state`. Throws InputError for missing, unknown or out-of-range values.
  void build(const std::vector<MuscleEntry>& muscles, double ministep);

  int64_t n_muscles() const { return n_muscles_; }
  int64_t n_states() const { return static_cast<int64_t>(state_names().size()); }
  int64_t state_row(const std::string& name) const;
  int64_t force_row() const { return state_row("force"); }
  double ministep() const { return ministep_; }
  const MuscleParameters& shared_parameters() const { return shared_parameters_; }
  // A per-muscle parameter buffer [M] by name.
  torch::Tensor parameter(const std::string& name) const;
  const torch::Tensor& min_activation() const { return activation_.min_activation; }
  // a_min, tau_activation and tau_deactivation [M] each (SPEC §5).
  const equations::ActivationParameters<torch::Tensor>& activation_parameters() const { return activation_; }
  std::vector<std::string> parameter_names() const;

 protected:
  // Called whenever the buffers are (re)created: derive constants from the parameter buffers (float64 at
  // that point) and register them with `set_buffer`.
  virtual void on_build() {}
  void materialize() override;
  // Registers (or replaces) a per-muscle buffer computed during `on_build`.
  torch::Tensor set_buffer(const std::string& name, torch::Tensor value);

  // Thelen (2003) first-order activation dynamics, shared by all models (SPEC §5): d activation / dt.
  torch::Tensor activation_derivative(const torch::Tensor& excitation, const torch::Tensor& activation) const;
  // a' = clip(a + k_a h, a_min, 1): the first line of every `integrate`.
  torch::Tensor integrate_activation(double h, const torch::Tensor& derivative, const torch::Tensor& muscle_state) const;

  // Stacks per-row tensors [B, M] into a state [B, K, M].
  static torch::Tensor stack_rows(const std::vector<torch::Tensor>& rows) { return torch::stack(rows, 1); }

 private:
  MuscleParameters shared_parameters_;
  std::string config_path_;
  int64_t n_muscles_ = 0;
  double ministep_ = 0.0;
  std::map<std::string, std::vector<double>> values_;  // per-muscle parameter values by name (float64)
  equations::ActivationParameters<torch::Tensor> activation_;
};

using Muscle = std::shared_ptr<MuscleImpl>;

// The activation-dynamics parameters every model has, with SPEC §5's defaults for a given a_min.
std::vector<MuscleParameterSpec> activation_parameter_specs(double min_activation, double tau_activation = 0.015,
                                                            double tau_deactivation = 0.05);

}  // namespace motornet
