#pragma once
// Recurrent policies: a stack of GRU, LSTM or vanilla RNN (tanh or ReLU) cells and a sigmoid readout to the
// muscles, initialised as in MotorNet's paper: input weights Xavier-uniform, recurrent weights orthogonal,
// biases zero, readout weights Xavier-uniform with bias -5 (muscles start almost silent).

#include "motornet/body/effector.h"  // KernelChoice
#include "motornet/control/policy.h"
#include "motornet/core/option_table.h"

namespace motornet {

enum class CellType { kGru, kLstm, kRnnTanh, kRnnRelu };

struct RecurrentPolicyOptions {
  RecurrentPolicyOptions(int64_t input_size, int64_t output_size) : input_size_(input_size), output_size_(output_size) {}
  TORCH_ARG(int64_t, input_size);
  TORCH_ARG(int64_t, output_size);
  TORCH_ARG(CellType, cell) = CellType::kGru;
  TORCH_ARG(int64_t, hidden_size) = 32;  // units per layer
  TORCH_ARG(int64_t, n_layers) = 1;
  TORCH_ARG(double, readout_bias) = -5.0;
  // kAuto: one fused autograd node per step where available (a one-layer GRU policy on the CPU steps through
  // src/control/policies/gru_policy_step.h; deeper GRUs use a fused cell and readout), ATen's cells elsewhere;
  // kOpByOp: ATen's cells always (the reference); kFused: as kAuto, an InputError where none applies.
  TORCH_ARG(KernelChoice, kernels) = KernelChoice::kAuto;
};

// The policy block's keys (besides `type`, `hidden_noise` and RNN's `nonlinearity`), defaults and checks.
const OptionTable<RecurrentPolicyOptions>& recurrent_policy_option_table();

class RecurrentPolicyImpl : public PolicyImpl {
 public:
  explicit RecurrentPolicyImpl(RecurrentPolicyOptions options);

  std::string type_name() const override;
  int64_t input_size() const override { return options_.input_size(); }
  int64_t output_size() const override { return options_.output_size(); }
  // Layers, each with h (and c for an LSTM): n_layers * units * (2 for LSTM, else 1).
  int64_t hidden_size() const override;
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& observation, const torch::Tensor& hidden) override;
  void export_torchscript(const std::string& filename) const override;
  bool has_stacked_forward() const override { return true; }
  std::pair<torch::Tensor, torch::Tensor> stacked_forward(
      const std::vector<torch::Tensor>& stacked, const torch::Tensor& observation, const torch::Tensor& hidden,
      const std::function<torch::Tensor(const torch::Tensor&)>& hidden_noise) const override;
  const RecurrentPolicyOptions& options() const { return options_; }

 private:
  int64_t state_width() const { return options_.cell() == CellType::kLstm ? 2 * options_.hidden_size() : options_.hidden_size(); }

  bool fused_layers(const torch::Tensor& observation, const torch::Tensor& hidden) const;

  RecurrentPolicyOptions options_;
  std::vector<torch::Tensor> w_ih_, w_hh_, b_ih_, b_hh_;
  torch::Tensor readout_weight_, readout_bias_;
  // One-layer GRUs on the CPU step through one fused node per time step (src/policies/gru_policy_step.h).
  std::shared_ptr<class GruPolicyStepper> gru_stepper_;
  // The fused step of stacked replicas (stacked_forward is const; the stepper only tracks which autograd chain
  // its weight gradients belong to).
  mutable std::shared_ptr<class GruPolicyStepper> stacked_gru_stepper_;
};
TORCH_MODULE(RecurrentPolicy);

}  // namespace motornet
