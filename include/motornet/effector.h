#pragma once
// Effector (SPEC §2): a skeleton, its muscles and the geometry that connects them, integrated together with
// Euler or classical RK4 and optional ministeps. The module holds only constants (parameters and buffers);
// the state of a simulation is an EffectorState passed in and returned, so rollouts are re-entrant, batched
// and differentiable end to end (including through the initial state).

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "motornet/geometry.h"
#include "motornet/geometry/path_geometry.h"
#include "motornet/muscle.h"
#include "motornet/skeleton.h"

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

// "euler", or "rk4" / "rungekutta4" / "runge-kutta4" / "runge-kutta-4" in any case; else an InputError at `path`.
IntegrationMethod parse_integration_method(const std::string& name, const std::string& path = "integration_method");

struct EffectorOptions {
  TORCH_ARG(double, timestep) = 0.01;  // s
  TORCH_ARG(int64_t, n_ministeps) = 1;
  TORCH_ARG(std::string, integration_method) = "euler";
  TORCH_ARG(double, damping) = 0.0;  // N m s (or N s): joint-space viscous damping
  // Bounds that replace the skeleton's defaults: one value for every dof, or one per dof.
  TORCH_ARG(std::optional<std::vector<double>>, pos_lower_bound) = std::nullopt;
  TORCH_ARG(std::optional<std::vector<double>>, pos_upper_bound) = std::nullopt;
  TORCH_ARG(std::optional<std::vector<double>>, vel_lower_bound) = std::nullopt;
  TORCH_ARG(std::optional<std::vector<double>>, vel_upper_bound) = std::nullopt;
};

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

  // SPEC §2.2. Without a joint state, positions are uniform within the bounds (drawn from `generator`) and
  // velocities zero. A joint state [1, D] or [1, 2D] is tiled to the batch; [B, D or 2D] sets the batch size.
  EffectorState reset(int64_t batch_size, const std::optional<torch::Tensor>& joint_state = std::nullopt,
                      std::optional<torch::Generator> generator = std::nullopt) const;
  // One time step of `timestep` (n_ministeps integration steps). `action` [B, M]; loads [B, S] and [B, D] (or
  // one row for the whole batch), undefined tensors meaning zero.
  EffectorState step(const EffectorState& state, const torch::Tensor& action,
                     const torch::Tensor& endpoint_load = {}, const torch::Tensor& joint_load = {}) const;

  const Skeleton& skeleton() const { return skeleton_; }
  const Muscle& muscle() const { return muscle_; }
  const Geometry& geometry() const { return geometry_; }
  const EffectorOptions& options() const { return options_; }
  IntegrationMethod integration_method() const { return method_; }
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
  torch::Tensor load_tensor(const torch::Tensor& load, int64_t batch, int64_t width, const char* name) const;

  Skeleton skeleton_;
  Muscle muscle_;
  Geometry geometry_;
  EffectorOptions options_;
  IntegrationMethod method_;
  bool path_based_;
  std::vector<MusclePath> paths_;
  std::vector<MuscleEntry> muscles_;
  std::vector<std::string> muscle_names_;
};
TORCH_MODULE(Effector);

}  // namespace motornet
