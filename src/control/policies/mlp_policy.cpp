#include "motornet/control/policies/mlp_policy.h"

#include <fmt/format.h>
#include <torch/script.h>

#include "motornet/core/error.h"
#include "control/policies/torchscript_file.h"

namespace motornet {

MlpPolicyImpl::MlpPolicyImpl(MlpPolicyOptions options) : options_(std::move(options)) {
  require(options_.input_size() >= 1, "input_size", "must be at least 1");
  require(options_.output_size() >= 1, "output_size", "must be at least 1");
  std::vector<int64_t> sizes = options_.hidden_sizes();
  for (int64_t size : sizes) require(size >= 1, "hidden_sizes", fmt::format("layer sizes must be at least 1, got {}", size));
  sizes.insert(sizes.begin(), options_.input_size());
  sizes.push_back(options_.output_size());
  torch::NoGradGuard no_grad;
  for (size_t layer = 0; layer + 1 < sizes.size(); ++layer) {
    auto weight = torch::empty({sizes[layer + 1], sizes[layer]});
    torch::nn::init::xavier_uniform_(weight);
    const bool readout = layer + 2 == sizes.size();
    auto bias = readout ? torch::full({sizes[layer + 1]}, options_.readout_bias()) : torch::zeros({sizes[layer + 1]});
    weights_.push_back(register_parameter(fmt::format("weight_{}", layer), weight));
    biases_.push_back(register_parameter(fmt::format("bias_{}", layer), bias));
  }
}

std::pair<torch::Tensor, torch::Tensor> MlpPolicyImpl::forward(const torch::Tensor& observation,
                                                               const torch::Tensor& hidden) {
  require_lazy(observation.dim() == 2 && observation.size(1) == input_size(), "observation", [&] {
    return fmt::format("expected [batch, {}], got {}", input_size(), fmt::join(observation.sizes(), "x"));
  });
  torch::Tensor x = observation;
  for (size_t layer = 0; layer + 1 < weights_.size(); ++layer)
    x = add_hidden_noise(torch::relu(torch::addmm(biases_[layer], x, weights_[layer].t())));
  auto action = torch::sigmoid(torch::addmm(biases_.back(), x, weights_.back().t()));
  return {action, torch::zeros({observation.size(0), 0}, observation.options())};
}

std::pair<torch::Tensor, torch::Tensor> MlpPolicyImpl::stacked_forward(
    const std::vector<torch::Tensor>& stacked, const torch::Tensor& observation, const torch::Tensor& hidden,
    const std::function<torch::Tensor(const torch::Tensor&)>& hidden_noise) const {
  // Parameters alternate weight_l [K, out, in], bias_l [K, out].
  const size_t layers = stacked.size() / 2;
  const int64_t K = stacked.front().size(0), rows = observation.size(0);
  torch::Tensor x = observation.reshape({K, rows / K, observation.size(1)});
  for (size_t layer = 0; layer + 1 < layers; ++layer) {
    x = torch::relu(torch::baddbmm(stacked[2 * layer + 1].unsqueeze(1), x, stacked[2 * layer].transpose(1, 2)));
    if (auto noise = hidden_noise(x); noise.defined()) x = x + noise;
  }
  auto action =
      torch::sigmoid(torch::baddbmm(stacked[2 * layers - 1].unsqueeze(1), x, stacked[2 * layers - 2].transpose(1, 2)));
  return {action.reshape({rows, action.size(2)}), hidden};
}

void MlpPolicyImpl::export_torchscript(const std::string& filename) const {
  torch::jit::Module module("MotorNetMlpPolicy");
  for (const auto& parameter : named_parameters()) module.register_parameter(parameter.key(), parameter.value().detach().clone(), false);
  std::string source = R"(
def initial_hidden(self, batch_size: int) -> Tensor:
    return torch.zeros([batch_size, 0], dtype=self.weight_0.dtype, device=self.weight_0.device)

def forward(self, obs: Tensor, h: Tensor) -> Tuple[Tensor, Tensor]:
    x = obs
)";
  const size_t last = weights_.size() - 1;
  for (size_t layer = 0; layer < last; ++layer)
    source += fmt::format("    x = torch.relu(torch.addmm(self.bias_{0}, x, self.weight_{0}.t()))\n", layer);
  source += fmt::format(
      "    action = torch.sigmoid(torch.addmm(self.bias_{0}, x, self.weight_{0}.t()))\n"
      "    return action, torch.zeros([obs.size(0), 0], dtype=obs.dtype, device=obs.device)\n",
      last);
  module.define(source);
  save_torchscript_file(module, filename);
}

}  // namespace motornet
