#pragma once
// The fused form of a task's force fields for one episode (internal to the environment). Every field's
// equation (ForceField::affine_force) and switch (on_steps) are read once at reset into plain per-trial tables;
// at each step one autograd node gives every field's force from the hand state at the start of the step, with
// the exact backward (the transpose of each field's gains), and a step at which no field applies to any trial
// costs nothing at all.
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "motornet/env/force_field.h"
#include "motornet/env/trials.h"

namespace motornet::fused {

class FieldKernel {
 public:
  static constexpr int64_t kMaxSpaceDim = 8;  // wider hands run op by op

  // The tables of `fields` for this episode's `trials` (drawn for `n_steps` steps), or nullptr when a field has
  // no affine form (it then runs op by op, and so do the others).
  static std::shared_ptr<const FieldKernel> build(const std::vector<std::shared_ptr<ForceField>>& fields,
                                                  const Trials& trials, int64_t n_steps, double timestep,
                                                  int64_t space_dim);

  // Whether any field applies to any trial at `step`.
  bool any_on(int64_t step) const { return any_on_.at(step) != 0; }
  int64_t n_fields() const { return n_fields_; }

  // Forward and backward of one step, over doubles (the node in field_kernel.cpp wraps them).
  // hand [B, 2S] (position, velocity) -> forces [F + 1][B, S]: each field's, then their sum.
  void forces(int64_t step, const double* hand, double* const* forces) const;
  // The gradient of the hand state [B, 2S] from the gradients of the F + 1 outputs (null: zero).
  void hand_gradient(int64_t step, const double* const* force_grads, double* hand_grad) const;

  int64_t batch() const { return batch_; }
  int64_t space_dim() const { return space_dim_; }

 private:
  FieldKernel() = default;
  // The index of field f's entry for trial b in the [F, B, ...] tables.
  int64_t entry(int64_t f, int64_t b) const { return f * batch_ + b; }

  int64_t n_fields_ = 0, batch_ = 0, space_dim_ = 0;
  std::vector<double> on_;             // [T, F, B]: each field's switch
  std::vector<char> any_on_;           // [T]
  std::vector<double> position_gain_;  // [F, B, S, S] (zeros where a field has none)
  std::vector<double> anchor_;         // [F, B, S]
  std::vector<double> velocity_gain_;  // [F, B, S, S]
  std::vector<double> bias_;           // [F, B, S]
};

// One autograd node: every field's force [B, S] at `step` from the hand state `cartesian` [B, 2S] (in its dtype),
// then their sum.
std::vector<torch::Tensor> field_forces(const std::shared_ptr<const FieldKernel>& kernel, int64_t step,
                                        const torch::Tensor& cartesian);

}  // namespace motornet::fused
