#pragma once
// One effector step (SPEC §2: Euler or RK4, n ministeps) for one row of a batch, from the fused kernels of a
// muscle model, a skeleton and a geometry, with its vector-Jacobian product. Mirrors EffectorImpl::step op
// for op; no torch here. Internal.
#include <memory>
#include <vector>

#include "motornet/body/fused/kernels.h"

namespace motornet::fused {

constexpr int64_t kMaxDof = 8;  // a skeleton's dofs fit in fixed scratch arrays

struct StepKernels {
  std::shared_ptr<const MuscleKernel> muscle;
  std::shared_ptr<const SkeletonKernel> skeleton;
  std::shared_ptr<const GeometryKernel> geometry;
  double ministep = 0.01;
  int64_t n_ministeps = 1;
  bool runge_kutta = false;
  double damping = 0.0;
};

// Where each part of a row lives in the flat arrays RowStep works on.
struct RowLayout {
  RowLayout(int64_t dof, int64_t space_dim, int64_t n_states, int64_t n_muscles, int64_t n_derivatives);
  // The layout of a step with these kernels.
  explicit RowLayout(const StepKernels& kernels);
  int64_t D, S, K, M, ND;
  int64_t joint = 0, muscle, geometry, stage;  // offsets in a stage [joint | muscle | geometry] and its size
  int64_t acceleration = 0, muscle_derivative, derivative;  // offsets in a derivative [acc | d muscle] and its size
};

// The inputs of one row as doubles: `stage` is [joint | muscle | geometry]; loads may be nullptr (no load).
struct RowInput {
  const double* stage;
  const double* action;
  const double* endpoint_load;
  const double* joint_load;
};

class RowStep {
 public:
  explicit RowStep(StepKernels kernels);
  const RowLayout& layout() const { return layout_; }

  // The next stage [joint | muscle | geometry] and cartesian state [2S].
  void forward(const RowInput& in, double* next_stage, double* cartesian);
  // Gradients of the inputs (each zeroed here; load gradients only where the load is given) from the gradients
  // of the next stage and of the cartesian state.
  void backward(const RowInput& in, const double* grad_next_stage, const double* grad_cartesian,
                double* grad_stage, double* grad_action, double* grad_endpoint_load, double* grad_joint_load);

 private:
  void excitation(const double* action, double* e) const;
  // Generalized forces [D] on the joints at a stage.
  void torque(const double* stage, const RowInput& in, double* tau) const;
  void derivative(const double* e, const double* stage, const RowInput& in, double* k) const;
  void derivative_vjp(const double* e, const double* stage, const RowInput& in, const double* grad_k,
                      double* grad_stage, double* grad_e, double* grad_endpoint_load, double* grad_joint_load);
  void integrate(double h, const double* k, const double* stage, double* next) const;
  void integrate_vjp(double h, const double* k, const double* stage, const double* grad_next, double* grad_k,
                     double* grad_stage);
  // Runs the ministeps; with `record`, keeps every stage and derivative in the tape for the backward pass.
  void run(const RowInput& in, const double* e, double* next_stage, bool record);

  StepKernels k_;
  RowLayout layout_;
  int64_t stages_per_ministep_, derivatives_per_ministep_;
  // Scratch, sized once: the tape of stages and derivatives, and temporaries.
  std::vector<double> tape_stages_, tape_derivatives_, scratch_;
};

}  // namespace motornet::fused
