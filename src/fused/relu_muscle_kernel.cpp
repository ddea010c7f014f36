// Fused ReluMuscle (SPEC §5.1): activation dynamics; force = a F_max; length and velocity copied from the
// geometry.
#include <algorithm>

#include "builtin_kernels.h"

namespace motornet::fused {
namespace {

class ReluMuscleKernel final : public MuscleKernel {
 public:
  ReluMuscleKernel(ActivationParameters activation, std::vector<double> max_isometric_force)
      : MuscleKernel(std::move(activation), /*n_states=*/4, /*force_row=*/3),
        max_isometric_force_(std::move(max_isometric_force)) {}

  void integrate(double h, const double* derivative, const double* state, const double* geometry,
                 double* next) const override {
    const int64_t M = n_muscles();
    for (int64_t m = 0; m < M; ++m) {
      const double a = integrate_activation(m, h, derivative, state);
      next[m] = a;
      next[M + m] = geometry[m];
      next[2 * M + m] = geometry[M + m];
      next[3 * M + m] = a * max_isometric_force_[m];
    }
  }

  void integrate_vjp(double h, const double* derivative, const double* state, const double* geometry,
                     const double* grad_next, double* grad_derivative, double* grad_state,
                     double* grad_geometry) const override {
    const int64_t M = n_muscles();
    for (int64_t m = 0; m < M; ++m) {
      const double grad_a = grad_next[m] + grad_next[3 * M + m] * max_isometric_force_[m];
      integrate_activation_vjp(m, h, derivative, state, grad_a, grad_derivative, grad_state);
      grad_geometry[m] += grad_next[M + m];
      grad_geometry[M + m] += grad_next[2 * M + m];
    }
  }

  // As ReluMuscle's reset: at rest the muscle produces no force, even above zero minimum activation.
  void initial_state(double h, const double* geometry, double* state) const override {
    MuscleKernel::initial_state(h, geometry, state);
    std::fill(state + force_row() * n_muscles(), state + (force_row() + 1) * n_muscles(), 0.0);
  }

 private:
  std::vector<double> max_isometric_force_;
};

}  // namespace

std::shared_ptr<const MuscleKernel> make_relu_muscle_kernel(ActivationParameters activation,
                                                            std::vector<double> max_isometric_force) {
  return std::make_shared<ReluMuscleKernel>(std::move(activation), std::move(max_isometric_force));
}

}  // namespace motornet::fused
