#pragma once
// One effector step (SPEC §2: Euler or RK4, n ministeps) for one row of a batch (RowStep) or for a block of
// kRowLanes rows at once (RowLaneStep: every number a RowLanes, lane l holding row l; the kernels' block
// versions), from the fused kernels of a muscle model, a skeleton and a geometry, with its vector-Jacobian
// product. Mirrors EffectorImpl::step op for op; no torch here. Internal.
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

// The inputs of one row (T = double) or block of rows (T = RowLanes): `stage` is [joint | muscle | geometry];
// loads may be nullptr (no load).
template <class T>
struct BasicRowInput {
  const T* stage;
  const T* action;
  const T* endpoint_load;
  const T* joint_load;
};
using RowInput = BasicRowInput<double>;

// Whether the step's three kernels all have block versions (RowLaneStep needs them).
bool has_row_lanes(const StepKernels& kernels);

template <class T>
class BasicRowStep {
 public:
  using RowInput = BasicRowInput<T>;
  explicit BasicRowStep(StepKernels kernels);
  const RowLayout& layout() const { return layout_; }

  // The next stage [joint | muscle | geometry] and cartesian state [2S].
  void forward(const RowInput& in, T* next_stage, T* cartesian);
  // Gradients of the inputs (each zeroed here; load gradients only where the load is given) from the gradients
  // of the next stage and of the cartesian state.
  void backward(const RowInput& in, const T* grad_next_stage, const T* grad_cartesian, T* grad_stage,
                T* grad_action, T* grad_endpoint_load, T* grad_joint_load);

 private:
  void excitation(const T* action, T* e) const;
  // Generalized forces [D] on the joints at a stage.
  void torque(const T* stage, const RowInput& in, T* tau) const;
  void derivative(const T* e, const T* stage, const RowInput& in, T* k) const;
  void derivative_vjp(const T* e, const T* stage, const RowInput& in, const T* grad_k,
                      T* grad_stage, T* grad_e, T* grad_endpoint_load, T* grad_joint_load);
  void integrate(double h, const T* k, const T* stage, T* next) const;
  void integrate_vjp(double h, const T* k, const T* stage, const T* grad_next, T* grad_k,
                     T* grad_stage);
  // Runs the ministeps; with `record`, keeps every stage and derivative in the tape for the backward pass.
  void run(const RowInput& in, const T* e, T* next_stage, bool record);

  StepKernels k_;
  RowLayout layout_;
  int64_t stages_per_ministep_, derivatives_per_ministep_;
  // Scratch, sized once: the tape of stages and derivatives, and temporaries.
  std::vector<T> tape_stages_, tape_derivatives_, scratch_;
};

using RowStep = BasicRowStep<double>;
using RowLaneStep = BasicRowStep<RowLanes>;

}  // namespace motornet::fused
