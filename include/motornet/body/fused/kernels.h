#pragma once
// Fused CPU kernels (ARCHITECTURE "Performance design"): the per-row arithmetic of the built-in muscles,
// skeletons and geometries in plain C++ on doubles, each with its hand-derived vector-Jacobian product.
// The fused effector step (fused/effector_step.h) strings them together for one row of a batch at a time and
// wraps the whole step in a single autograd node, replacing the ~100-300 small tensor ops of the op-by-op path.
//
// Conventions. One row of a batch at a time; arrays are row-major slices of the op-by-op tensors:
//   joint state q [2D] (positions then velocities), cartesian state [2S], muscle state [K*M] (row k of a
//   muscle state at k*M), geometry [(2+D)*M] (length, velocity, then moment arms), derivative [n_derivatives*M].
// Every `*_vjp` recomputes what it needs from the same inputs as its forward and ADDS the products of the
// output gradient with the Jacobian to the input gradients (so several uses of one input simply accumulate).
// Piecewise functions take the branch the op-by-op path takes, including its choice at ties (a clamp passes
// the gradient at its bounds; `where` gives the unselected branch nothing).
// Kernels hold copies of their parameters: a model builds one from its current buffers (`fused_kernel()`).
//
// Blocks of rows. A kernel whose `has_row_lanes()` is true also runs on kRowLanes rows at once: the same arrays
// with RowLanes (equations/lanes.h) in place of doubles, lane l holding row l of the block. Each lane's result has
// the bits the double version gives that row. The environment step uses them where all three kernels have them;
// the others (the default) are called row by row.

#include <cstdint>
#include <memory>
#include <vector>

#include "motornet/body/equations/lanes.h"

namespace motornet::fused {

using equations::kRowLanes;
using equations::RowLanes;

// A muscle model's equations for one row of a batch, all M muscles. Built-in and user models written as an
// equation set get one from EquationMuscleKernel (motornet/body/equation_muscle.h); nothing here is per model.
class MuscleKernel {
 public:
  // `n_derivatives`: rows of the muscle's derivative; row 0 is always the activation rate.
  MuscleKernel(std::vector<double> min_activation, int64_t n_states, int64_t force_row, int64_t n_derivatives)
      : min_activation_(std::move(min_activation)),
        n_states_(n_states),
        force_row_(force_row),
        n_derivatives_(n_derivatives) {}
  virtual ~MuscleKernel() = default;
  int64_t n_muscles() const { return static_cast<int64_t>(min_activation_.size()); }
  int64_t n_states() const { return n_states_; }
  int64_t force_row() const { return force_row_; }
  int64_t n_derivatives() const { return n_derivatives_; }
  double min_activation(int64_t m) const { return min_activation_[m]; }

  // d state / dt [n_derivatives*M] from the excitation [M] and the muscle state.
  virtual void ode(const double* excitation, const double* state, double* derivative) const = 0;
  virtual void ode_vjp(const double* excitation, const double* state, const double* grad_derivative,
                       double* grad_excitation, double* grad_state) const = 0;
  // The muscle state after a step h from `derivative`, the old state and the old geometry.
  virtual void integrate(double h, const double* derivative, const double* state, const double* geometry,
                         double* next) const = 0;
  virtual void integrate_vjp(double h, const double* derivative, const double* state, const double* geometry,
                             const double* grad_next, double* grad_derivative, double* grad_state,
                             double* grad_geometry) const = 0;
  // The state a reset starts from [n_states*M], from the geometry (no gradient).
  virtual void initial_state(double h, const double* geometry, double* state) const = 0;

  // The same on blocks of rows (see the top of this file); the defaults refuse.
  virtual bool has_row_lanes() const { return false; }
  virtual void ode(const RowLanes* excitation, const RowLanes* state, RowLanes* derivative) const;
  virtual void ode_vjp(const RowLanes* excitation, const RowLanes* state, const RowLanes* grad_derivative,
                       RowLanes* grad_excitation, RowLanes* grad_state) const;
  virtual void integrate(double h, const RowLanes* derivative, const RowLanes* state, const RowLanes* geometry,
                         RowLanes* next) const;
  virtual void integrate_vjp(double h, const RowLanes* derivative, const RowLanes* state, const RowLanes* geometry,
                             const RowLanes* grad_next, RowLanes* grad_derivative, RowLanes* grad_state,
                             RowLanes* grad_geometry) const;

 private:
  std::vector<double> min_activation_;
  int64_t n_states_, force_row_, n_derivatives_;
};

// Joint-space dynamics, the shared semi-implicit integration with bounds, and the endpoint kinematics.
struct SkeletonBounds {
  std::vector<double> position_lower, position_upper, velocity_lower, velocity_upper;  // [D] each
};

class SkeletonKernel {
 public:
  SkeletonKernel(int64_t dof, int64_t space_dim, SkeletonBounds bounds);
  virtual ~SkeletonKernel() = default;
  int64_t dof() const { return dof_; }
  int64_t space_dim() const { return space_dim_; }

  // Joint accelerations [D] from generalized forces [D], the joint state and an endpoint force [S] (nullptr:
  // none).
  virtual void ode(const double* torque, const double* joint, const double* endpoint_load,
                   double* acceleration) const = 0;
  virtual void ode_vjp(const double* torque, const double* joint, const double* endpoint_load,
                       const double* grad_acceleration, double* grad_torque, double* grad_joint,
                       double* grad_endpoint_load) const = 0;
  virtual void to_cartesian(const double* joint, double* cartesian) const = 0;
  virtual void to_cartesian_vjp(const double* joint, const double* grad_cartesian, double* grad_joint) const = 0;
  // SPEC §2.1 for every skeleton.
  void integrate(double h, const double* acceleration, const double* joint, double* next) const;
  void integrate_vjp(double h, const double* acceleration, const double* joint, const double* grad_next,
                     double* grad_acceleration, double* grad_joint) const;

  // The same on blocks of rows (see the top of this file); the defaults refuse. The integration has its block
  // version for every skeleton.
  virtual bool has_row_lanes() const { return false; }
  virtual void ode(const RowLanes* torque, const RowLanes* joint, const RowLanes* endpoint_load,
                   RowLanes* acceleration) const;
  virtual void ode_vjp(const RowLanes* torque, const RowLanes* joint, const RowLanes* endpoint_load,
                       const RowLanes* grad_acceleration, RowLanes* grad_torque, RowLanes* grad_joint,
                       RowLanes* grad_endpoint_load) const;
  virtual void to_cartesian(const RowLanes* joint, RowLanes* cartesian) const;
  virtual void to_cartesian_vjp(const RowLanes* joint, const RowLanes* grad_cartesian, RowLanes* grad_joint) const;
  void integrate(double h, const RowLanes* acceleration, const RowLanes* joint, RowLanes* next) const;
  void integrate_vjp(double h, const RowLanes* acceleration, const RowLanes* joint, const RowLanes* grad_next,
                     RowLanes* grad_acceleration, RowLanes* grad_joint) const;

 private:
  int64_t dof_, space_dim_;
  SkeletonBounds bounds_;
};

// Joint state [2D] -> geometry [(2+D)*M].
class GeometryKernel {
 public:
  virtual ~GeometryKernel() = default;
  virtual void forward(const double* joint, double* geometry) const = 0;
  virtual void forward_vjp(const double* joint, const double* grad_geometry, double* grad_joint) const = 0;

  // The same on blocks of rows (see the top of this file); the defaults refuse.
  virtual bool has_row_lanes() const { return false; }
  virtual void forward(const RowLanes* joint, RowLanes* geometry) const;
  virtual void forward_vjp(const RowLanes* joint, const RowLanes* grad_geometry, RowLanes* grad_joint) const;
};

// Straight muscle paths between points fixed on the bodies of a skeleton (PathGeometry's layout).
struct MusclePaths {
  int64_t n_muscles = 0;
  std::vector<std::vector<double>> coordinates;  // [N][S], in each point's body frame
  std::vector<int64_t> body;                     // [N]
  std::vector<int64_t> segment_start;            // segment k joins points start and start + 1
  std::vector<int64_t> segment_muscle;           // the muscle each segment belongs to
};
}  // namespace motornet::fused
