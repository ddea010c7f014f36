#pragma once
// A feed-forward policy: ReLU hidden layers and a sigmoid readout (no hidden state; it sees only the current
// observation, which may include stacked past actions). Xavier-uniform weights, zero biases, readout bias -5.

#include <vector>

#include "motornet/control/policy.h"
#include "motornet/core/option_table.h"

namespace motornet {

struct MlpPolicyOptions {
  MlpPolicyOptions(int64_t input_size, int64_t output_size) : input_size_(input_size), output_size_(output_size) {}
  TORCH_ARG(int64_t, input_size);
  TORCH_ARG(int64_t, output_size);
  TORCH_ARG(std::vector<int64_t>, hidden_sizes) = std::vector<int64_t>{64};
  TORCH_ARG(double, readout_bias) = -5.0;
};

// The policy block's keys (besides `type`, `hidden_noise` and RNN's `nonlinearity`), defaults and checks.
const OptionTable<MlpPolicyOptions>& mlp_policy_option_table();

class MlpPolicyImpl : public PolicyImpl {
 public:
  explicit MlpPolicyImpl(MlpPolicyOptions options);

  std::string type_name() const override { return "MLP"; }
  int64_t input_size() const override { return options_.input_size(); }
  int64_t output_size() const override { return options_.output_size(); }
  int64_t hidden_size() const override { return 0; }
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& observation, const torch::Tensor& hidden) override;
  void export_torchscript(const std::string& filename) const override;
  bool has_stacked_forward() const override { return true; }
  std::pair<torch::Tensor, torch::Tensor> stacked_forward(
      const std::vector<torch::Tensor>& stacked, const torch::Tensor& observation, const torch::Tensor& hidden,
      const std::function<torch::Tensor(const torch::Tensor&)>& hidden_noise) const override;

 private:
  MlpPolicyOptions options_;
  std::vector<torch::Tensor> weights_, biases_;  // hidden layers, then the readout
};
TORCH_MODULE(MlpPolicy);

}  // namespace motornet
