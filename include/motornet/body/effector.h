#pragma once
// Effector (SPEC §2): a skeleton, its muscles and the geometry that connects them, integrated together with
// Euler or classical RK4 and optional ministeps. The module holds only constants (parameters and buffers);
// the state of a simulation is an EffectorState passed in and returned, so rollouts are re-entrant, batched
// and differentiable end to end (including through the initial state).

#include <torch/torch.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "motornet/body/geometry.h"
#include "motornet/body/geometry/path_geometry.h"
#include "motornet/body/muscle.h"
#include "motornet/body/skeleton.h"
#include "motornet/core/enum_names.h"
#include "motornet/core/option_table.h"

namespace motornet {

struct EffectorState {
  torch::Tensor joint;      // [B, 2D]
  torch::Tensor cartesian;  // [B, 2S]
  torch::Tensor muscle;     // [B, K, M]
  torch::Tensor geometry;   // [B, 2+D, M]

  torch::Tensor fingertip() const { return cartesian.narrow(1, 0, cartesian.size(1) / 2); }
  EffectorState detach() const { return {joint.detach(), cartesian.detach(), muscle.detach(), geometry.detach()}; }
};

enum class IntegrationMethod { kEuler, kRungeKutta4 };
inline const EnumNameTable<IntegrationMethod>& enum_names(IntegrationMethod) {
  static const EnumNameTable<IntegrationMethod> table{
      "integration method",
      {{"euler", IntegrationMethod::kEuler}, {"rk4", IntegrationMethod::kRungeKutta4},
       {"rungekutta4", IntegrationMethod::kRungeKutta4}, {"runge-kutta4", IntegrationMethod::kRungeKutta4},
       {"runge-kutta-4", IntegrationMethod::kRungeKutta4}}};
  return table;
}

// How steps are computed. kAuto: the fused CPU kernel (one autograd node per step, hand-derived backward)
// whenever the muscle model, skeleton and geometry all have one and the effector lives on the CPU, else op by
// op. kOpByOp: always op by op (the reference). kFused: the fused kernel, or an InputError naming what lacks one.
enum class KernelChoice { kAuto, kOpByOp, kFused };
inline const EnumNameTable<KernelChoice>& enum_names(KernelChoice) {
  static const EnumNameTable<KernelChoice> table{"kernels",
                                                 {{"auto", KernelChoice::kAuto},
                                                  {"fused", KernelChoice::kFused},
                                                  {"op-by-op", KernelChoice::kOpByOp},
                                                  {"op_by_op", KernelChoice::kOpByOp}}};
  return table;
}

// "auto", "fused" or "op-by-op" in any case; else an InputError at `path`.
KernelChoice parse_kernel_choice(const std::string& name, const std::string& path = "kernels");

namespace fused {
struct StepKernels;
struct SensesOptions;
struct SensedStep;
}  // namespace fused

// "euler", or "rk4" / "rungekutta4" / "runge-kutta4" / "runge-kutta-4" in any case; else an InputError at `path`.
IntegrationMethod parse_integration_method(const std::string& name, const std::string& path = "integration_method");

struct EffectorOptions {
  TORCH_ARG(double, timestep) = 0.01;  // s
  TORCH_ARG(int64_t, n_ministeps) = 1;
  TORCH_ARG(IntegrationMethod, integration_method) = IntegrationMethod::kEuler;
  TORCH_ARG(double, damping) = 0.0;  // N m s (or N s): joint-space viscous damping
  TORCH_ARG(KernelChoice, kernels) = KernelChoice::kAuto;
  // Bounds that replace the skeleton's defaults: one value for every dof, or one per dof.
  TORCH_ARG(std::optional<std::vector<double>>, pos_lower_bound) = std::nullopt;
  TORCH_ARG(std::optional<std::vector<double>>, pos_upper_bound) = std::nullopt;
  TORCH_ARG(std::optional<std::vector<double>>, vel_lower_bound) = std::nullopt;
  TORCH_ARG(std::optional<std::vector<double>>, vel_upper_bound) = std::nullopt;
};

// The effector block's options (besides preset/skeleton/muscle/muscles), defaults and checks (core/option_table.h).
const OptionTable<EffectorOptions>& effector_option_table();

class EffectorImpl : public torch::nn::Module {
 public:
  // A path-based effector: add muscles with `add_muscle`.
  EffectorImpl(Skeleton skeleton, Muscle muscle, EffectorOptions options = {});
  // An effector with its own geometry (presets): one entry per muscle, in the geometry's order.
  EffectorImpl(Skeleton skeleton, Muscle muscle, Geometry geometry, std::vector<MuscleEntry> muscles,
               EffectorOptions options = {});

  // Adds a muscle along `path` (path-based effectors only). `entry.parameters` override the muscle model's
  // shared parameters for this muscle; `entry.config_path` names it in errors.
  void add_muscle(const MusclePath& path, MuscleEntry entry);

  // Joint states [B, 2D] as reset draws them: positions uniform within the bounds, velocities zero.
  torch::Tensor random_joint_state(int64_t batch_size, std::optional<torch::Generator> generator = std::nullopt) const;
  // SPEC §2.2. Without a joint state, positions are uniform within the bounds (drawn from `generator`) and
  // velocities zero. A joint state [1, D] or [1, 2D] is tiled to the batch; [B, D or 2D] sets the batch size.
  EffectorState reset(int64_t batch_size, const std::optional<torch::Tensor>& joint_state = std::nullopt,
                      std::optional<torch::Generator> generator = std::nullopt) const;
  // One time step of `timestep` (n_ministeps integration steps). `action` [B, M]; loads [B, S] and [B, D] (or
  // one row for the whole batch), undefined tensors meaning zero.
  EffectorState step(const EffectorState& state, const torch::Tensor& action,
                     const torch::Tensor& endpoint_load = {}, const torch::Tensor& joint_load = {}) const;

  // Internal (the Python package's sensed step, src/body/fused/effector_step.h; the environment's own step is a
  // node of its own, src/env/environment_step.h): `step` and the senses of its new state as one autograd node
  // (with `task_inputs`: the observation [task inputs | vision | proprioception]), or nullopt when the step runs
  // op by op or these senses cannot be fused (the caller then steps and senses op by op).
  std::optional<fused::SensedStep> step_and_sense(const EffectorState& state, const torch::Tensor& action,
                                                  const torch::Tensor& endpoint_load,
                                                  const fused::SensesOptions& senses,
                                                  const torch::Tensor& vision_draws,
                                                  const torch::Tensor& proprio_draws,
                                                  const torch::Tensor& task_inputs = {}) const;

  // Internal (the environment's fused step node, src/env/environment_step.h): the fused kernels a step would run
  // now, or nullptr when steps run op by op; and an endpoint load checked and shaped [batch, S] as `step` takes it.
  std::shared_ptr<const fused::StepKernels> step_kernels() const { return fused_kernels(/*rescan=*/false); }
  torch::Tensor endpoint_load_rows(const torch::Tensor& load, int64_t batch) const {
    return load_tensor(load, batch, space_dim(), "endpoint_load");
  }

  const Skeleton& skeleton() const { return skeleton_; }
  const Muscle& muscle() const { return muscle_; }
  const Geometry& geometry() const { return geometry_; }
  const EffectorOptions& options() const { return options_; }
  IntegrationMethod integration_method() const { return options_.integration_method(); }
  KernelChoice kernel_choice() const { return options_.kernels(); }
  // Whether `step` runs the fused kernel with the effector as it is now.
  bool uses_fused_kernels() const { return fused_kernels() != nullptr; }
  const std::vector<std::string>& muscle_names() const { return muscle_names_; }
  int64_t n_muscles() const { return static_cast<int64_t>(muscle_names_.size()); }
  int64_t dof() const { return skeleton_->dof(); }
  int64_t space_dim() const { return skeleton_->space_dim(); }
  double timestep() const { return options_.timestep(); }
  double ministep() const { return options_.timestep() / static_cast<double>(options_.n_ministeps()); }
  // dtype and device of the model's buffers (what states must use).
  torch::TensorOptions tensor_options() const { return skeleton_->tensor_options(); }

 private:
  struct Derivative {
    torch::Tensor muscle, joint;  // [B, n_derivatives, M], [B, D]
  };
  struct Stage {
    torch::Tensor joint, muscle, geometry;
  };
  void validate_options();
  void rebuild_muscles();
  Derivative derivative(const torch::Tensor& excitation, const Stage& stage, const torch::Tensor& endpoint_load,
                        const torch::Tensor& joint_load) const;
  Stage integrate(double h, const Derivative& k, const Stage& stage) const;
  // An InputError unless `action` is [batch, muscles].
  void require_action(const torch::Tensor& action, int64_t batch) const;
  // `t` in the dtype and on the device of the model (no copy when it already is).
  torch::Tensor in_model_options(const torch::Tensor& t) const;
  torch::Tensor load_tensor(const torch::Tensor& load, int64_t batch, int64_t width, const char* name) const;
  // The fused kernels for the current parameters, or nullptr when the step runs op by op. Rebuilt when a
  // buffer changes (new values, dtype or device); throws for kFused when a model has no kernel.
  // `rescan`: also walk the module tree for buffers registered since the last look (done at reset; steps only
  // check the buffers already known).
  std::shared_ptr<const fused::StepKernels> fused_kernels(bool rescan = true) const;
  // Sets fused_ (nullptr when unavailable, fused_missing_ saying why) from the models as they are now.
  void build_fused_kernels() const;

  Skeleton skeleton_;
  Muscle muscle_;
  Geometry geometry_;
  EffectorOptions options_;
  // Cache of fused_kernels(), keyed by the identity and version of every buffer.
  mutable std::mutex fused_mutex_;
  mutable std::vector<torch::Tensor> fused_buffers_;
  mutable std::vector<std::pair<const void*, uint32_t>> fused_key_;  // fused_buffers_' storage and version
  mutable std::shared_ptr<const fused::StepKernels> fused_;
  mutable std::string fused_missing_;
  bool path_based_;
  std::vector<MusclePath> paths_;
  std::vector<MuscleEntry> muscles_;
  std::vector<std::string> muscle_names_;
};
TORCH_MODULE(Effector);

}  // namespace motornet
