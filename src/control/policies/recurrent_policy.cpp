#include "motornet/control/policies/recurrent_policy.h"

#include <fmt/format.h>
#include <torch/script.h>

#include "control/policies/fused_gru_cell.h"
#include "control/policies/fused_sigmoid_linear.h"
#include "control/policies/gru_policy_step.h"
#include "control/policies/torchscript_file.h"
#include "motornet/body/effector.h"
#include "motornet/core/error.h"

namespace motornet {

namespace {
int64_t gates(CellType cell) {
  switch (cell) {
    case CellType::kGru: return 3;
    case CellType::kLstm: return 4;
    default: return 1;
  }
}
const char* cell_function(CellType cell) {
  switch (cell) {
    case CellType::kGru: return "gru_cell";
    case CellType::kLstm: return "lstm_cell";
    case CellType::kRnnTanh: return "rnn_tanh_cell";
    default: return "rnn_relu_cell";
  }
}
}  // namespace

RecurrentPolicyImpl::RecurrentPolicyImpl(RecurrentPolicyOptions options) : options_(options) {
  require(options_.input_size() >= 1, "input_size", "must be at least 1");
  require(options_.output_size() >= 1, "output_size", "must be at least 1");
  require(options_.hidden_size() >= 1, "hidden_size", fmt::format("must be at least 1, got {}", options_.hidden_size()));
  require(options_.n_layers() >= 1, "n_layers", fmt::format("must be at least 1, got {}", options_.n_layers()));
  require(options_.kernels() != KernelChoice::kFused || options_.cell() == CellType::kGru, "kernels",
          fmt::format("'fused' is available for GRU policies only, not {}; use 'auto' or 'op-by-op'", type_name()));
  const int64_t H = options_.hidden_size(), G = gates(options_.cell());
  torch::NoGradGuard no_grad;
  for (int64_t layer = 0; layer < options_.n_layers(); ++layer) {
    const int64_t in = layer == 0 ? options_.input_size() : H;
    auto w_ih = torch::empty({G * H, in});
    auto w_hh = torch::empty({G * H, H});
    torch::nn::init::xavier_uniform_(w_ih);
    torch::nn::init::orthogonal_(w_hh);
    w_ih_.push_back(register_parameter(fmt::format("w_ih_{}", layer), w_ih));
    w_hh_.push_back(register_parameter(fmt::format("w_hh_{}", layer), w_hh));
    b_ih_.push_back(register_parameter(fmt::format("b_ih_{}", layer), torch::zeros({G * H})));
    b_hh_.push_back(register_parameter(fmt::format("b_hh_{}", layer), torch::zeros({G * H})));
  }
  auto readout = torch::empty({options_.output_size(), H});
  torch::nn::init::xavier_uniform_(readout);
  readout_weight_ = register_parameter("readout_weight", readout);
  readout_bias_ = register_parameter("readout_bias", torch::full({options_.output_size()}, options_.readout_bias()));
}

std::string RecurrentPolicyImpl::type_name() const {
  switch (options_.cell()) {
    case CellType::kGru: return "GRU";
    case CellType::kLstm: return "LSTM";
    default: return "RNN";
  }
}

int64_t RecurrentPolicyImpl::hidden_size() const { return options_.n_layers() * state_width(); }

// Fused single-node layers (CPU, float32/float64, one dtype) where allowed; ATen's op-by-op cells elsewhere.
bool RecurrentPolicyImpl::fused_layers(const torch::Tensor& observation, const torch::Tensor& hidden) const {
  const auto type = hidden.scalar_type();
  const bool applies = hidden.device().is_cpu() && (type == torch::kFloat32 || type == torch::kFloat64) &&
                       observation.scalar_type() == type && readout_weight_.scalar_type() == type &&
                       readout_weight_.device().is_cpu();
  require(applies || options_.kernels() != KernelChoice::kFused, "kernels",
          "'fused' computes float32 and float64 on the CPU only; use 'auto' or 'op-by-op'");
  return applies && options_.kernels() != KernelChoice::kOpByOp;
}

std::pair<torch::Tensor, torch::Tensor> RecurrentPolicyImpl::forward(const torch::Tensor& observation,
                                                                     const torch::Tensor& hidden) {
  const int64_t H = options_.hidden_size(), W = state_width();
  require_lazy(observation.dim() == 2 && observation.size(1) == input_size(), "observation", [&] {
    return fmt::format("expected [batch, {}], got {}", input_size(), fmt::join(observation.sizes(), "x"));
  });
  require_lazy(hidden.dim() == 2 && hidden.size(1) == hidden_size() && hidden.size(0) == observation.size(0), "hidden",
               [&] {
                 return fmt::format("expected [{}, {}], got {}", observation.size(0), hidden_size(),
                                    fmt::join(hidden.sizes(), "x"));
               });
  const bool fused = fused_layers(observation, hidden);
  if (fused && options_.cell() == CellType::kGru && options_.n_layers() == 1) {
    const GruPolicyWeights weights{w_ih_[0], w_hh_[0], b_ih_[0], b_hh_[0], readout_weight_, readout_bias_};
    if (GruPolicyStepper::applies(observation, hidden, weights)) {
      if (!gru_stepper_) gru_stepper_ = std::make_shared<GruPolicyStepper>();
      return gru_stepper_->step(observation, hidden, hidden_noise_sample(hidden), weights);
    }
  }
  torch::Tensor x = observation;
  std::vector<torch::Tensor> next;
  for (int64_t layer = 0; layer < options_.n_layers(); ++layer) {
    auto state = options_.n_layers() == 1 ? hidden : hidden.narrow(1, layer * W, W);
    const auto &w_ih = w_ih_[layer], &w_hh = w_hh_[layer], &b_ih = b_ih_[layer], &b_hh = b_hh_[layer];
    switch (options_.cell()) {
      case CellType::kGru:
        x = add_hidden_noise(fused ? fused_gru_cell(x, state, w_ih, w_hh, b_ih, b_hh)
                                   : at::gru_cell(x, state, w_ih, w_hh, b_ih, b_hh));
        next.push_back(x);
        break;
      case CellType::kRnnTanh: x = add_hidden_noise(at::rnn_tanh_cell(x, state, w_ih, w_hh, b_ih, b_hh)); next.push_back(x); break;
      case CellType::kRnnRelu: x = add_hidden_noise(at::rnn_relu_cell(x, state, w_ih, w_hh, b_ih, b_hh)); next.push_back(x); break;
      case CellType::kLstm: {
        auto [h, c] = at::lstm_cell(x, {state.narrow(1, 0, H), state.narrow(1, H, H)}, w_ih, w_hh, b_ih, b_hh);
        x = add_hidden_noise(h);
        next.push_back(torch::cat({x, c}, 1));
        break;
      }
    }
  }
  auto action = fused ? fused_sigmoid_linear(x, readout_weight_, readout_bias_)
                      : torch::sigmoid(torch::addmm(readout_bias_, x, readout_weight_.t()));
  return {action, next.size() == 1 ? next[0] : torch::cat(next, 1)};
}

// The cell equations of torch's gru_cell, lstm_cell and rnn_*_cell, written on stacked weights [K, G*H, in]
// so that K replicas take one batched product per layer.
std::pair<torch::Tensor, torch::Tensor> RecurrentPolicyImpl::stacked_forward(
    const std::vector<torch::Tensor>& stacked, const torch::Tensor& observation, const torch::Tensor& hidden,
    const std::function<torch::Tensor(const torch::Tensor&)>& hidden_noise) const {
  const int64_t H = options_.hidden_size(), W = state_width(), L = options_.n_layers();
  const int64_t K = stacked.front().size(0), rows = observation.size(0), B = rows / K;
  if (options_.cell() == CellType::kGru && L == 1 && fused_layers(observation, hidden)) {
    // All K replicas' steps as one fused node: each block of rows multiplied by its own replica's weights.
    const GruPolicyWeights weights{stacked[0], stacked[1], stacked[2], stacked[3], stacked[4], stacked[5]};
    if (GruPolicyStepper::applies(observation, hidden, weights)) {
      auto noise = hidden_noise(hidden.view({K, B, H}));
      if (!stacked_gru_stepper_) stacked_gru_stepper_ = std::make_shared<GruPolicyStepper>();
      return stacked_gru_stepper_->step(observation, hidden, noise.defined() ? noise.view({rows, H}) : noise, weights);
    }
  }
  auto add_noise = [&](const torch::Tensor& activity) {
    auto noise = hidden_noise(activity);
    return noise.defined() ? activity + noise : activity;
  };
  torch::Tensor x = observation.reshape({K, B, observation.size(1)});
  const auto stacked_hidden = hidden.reshape({K, B, hidden.size(1)});
  std::vector<torch::Tensor> next;
  for (int64_t layer = 0; layer < L; ++layer) {
    const auto &w_ih = stacked[4 * layer], &w_hh = stacked[4 * layer + 1];
    const auto &b_ih = stacked[4 * layer + 2], &b_hh = stacked[4 * layer + 3];
    auto state = stacked_hidden.narrow(2, layer * W, W);
    auto h = options_.cell() == CellType::kLstm ? state.narrow(2, 0, H) : state;
    auto gi = torch::baddbmm(b_ih.unsqueeze(1), x, w_ih.transpose(1, 2));
    auto gh = torch::baddbmm(b_hh.unsqueeze(1), h, w_hh.transpose(1, 2));
    switch (options_.cell()) {
      case CellType::kGru: {
        auto i = gi.chunk(3, 2), r_h = gh.chunk(3, 2);
        auto reset = torch::sigmoid(i[0] + r_h[0]);
        auto update = torch::sigmoid(i[1] + r_h[1]);
        auto candidate = torch::tanh(i[2] + reset * r_h[2]);
        x = add_noise(candidate + update * (h - candidate));
        next.push_back(x);
        break;
      }
      case CellType::kRnnTanh: x = add_noise(torch::tanh(gi + gh)); next.push_back(x); break;
      case CellType::kRnnRelu: x = add_noise(torch::relu(gi + gh)); next.push_back(x); break;
      case CellType::kLstm: {
        auto gates = (gi + gh).chunk(4, 2);
        auto c = torch::sigmoid(gates[1]) * state.narrow(2, H, H) + torch::sigmoid(gates[0]) * torch::tanh(gates[2]);
        x = add_noise(torch::sigmoid(gates[3]) * torch::tanh(c));
        next.push_back(torch::cat({x, c}, 2));
        break;
      }
    }
  }
  auto action = torch::sigmoid(torch::baddbmm(stacked[4 * L + 1].unsqueeze(1), x, stacked[4 * L].transpose(1, 2)));
  auto next_hidden = next.size() == 1 ? next[0] : torch::cat(next, 2);
  return {action.reshape({rows, action.size(2)}), next_hidden.reshape({rows, next_hidden.size(2)})};
}

void RecurrentPolicyImpl::export_torchscript(const std::string& filename) const {
  torch::jit::Module module("MotorNetRecurrentPolicy");
  for (const auto& parameter : named_parameters()) module.register_parameter(parameter.key(), parameter.value().detach().clone(), false);
  const int64_t H = options_.hidden_size(), W = state_width();
  std::string source = fmt::format(R"(
def initial_hidden(self, batch_size: int) -> Tensor:
    return torch.zeros([batch_size, {}], dtype=self.readout_weight.dtype, device=self.readout_weight.device)

def forward(self, obs: Tensor, h: Tensor) -> Tuple[Tensor, Tensor]:
    x = obs
)",
                                   hidden_size());
  std::string states;
  for (int64_t layer = 0; layer < options_.n_layers(); ++layer) {
    std::string weights = fmt::format("self.w_ih_{0}, self.w_hh_{0}, self.b_ih_{0}, self.b_hh_{0}", layer);
    std::string state = fmt::format("h.narrow(1, {}, {})", layer * W, W);
    if (options_.cell() == CellType::kLstm) {
      source += fmt::format("    s{0} = {1}\n    hc{0} = torch.lstm_cell(x, [s{0}.narrow(1, 0, {2}), s{0}.narrow(1, {2}, {2})], {3})\n"
                            "    x = hc{0}[0]\n    n{0} = torch.cat([hc{0}[0], hc{0}[1]], 1)\n",
                            layer, state, H, weights);
    } else {
      source += fmt::format("    n{0} = torch.{1}(x, {2}, {3})\n    x = n{0}\n", layer, cell_function(options_.cell()), state,
                            weights);
    }
    states += (layer ? ", n" : "n") + std::to_string(layer);
  }
  source += fmt::format(
      "    action = torch.sigmoid(torch.addmm(self.readout_bias, x, self.readout_weight.t()))\n"
      "    return action, torch.cat([{}], 1)\n",
      states);
  module.define(source);
  save_torchscript_file(module, filename);
}

}  // namespace motornet
