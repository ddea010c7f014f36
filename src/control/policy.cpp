#include "motornet/control/policy.h"

#include <fmt/format.h>

#include <map>
#include <mutex>

#include "motornet/core/error.h"
#include "core/named_registry.h"
#include "motornet/control/policies/mlp_policy.h"
#include "motornet/control/policies/recurrent_policy.h"

namespace motornet {

torch::Tensor PolicyImpl::initial_hidden(int64_t batch_size) const {
  auto options = torch::TensorOptions();
  for (const auto& parameter : parameters()) {
    options = parameter.options().requires_grad(false);
    break;
  }
  return torch::zeros({batch_size, hidden_size()}, options);
}

void PolicyImpl::set_hidden_noise(double sigma, std::optional<torch::Generator> generator) {
  require(std::isfinite(sigma) && sigma >= 0.0, "hidden_noise", fmt::format("must be a non-negative number, got {}", sigma));
  hidden_noise_ = sigma;
  noise_streams_.reset();
  if (generator) noise_streams_ = RowStreams({*generator});
}

std::pair<torch::Tensor, torch::Tensor> PolicyImpl::stacked_forward(
    const std::vector<torch::Tensor>&, const torch::Tensor&, const torch::Tensor&,
    const std::function<torch::Tensor(const torch::Tensor&)>&) const {
  throw InputError("policy", fmt::format("a {} policy has no vectorised replicate step", type_name()));
}

void PolicyImpl::set_hidden_noise(double sigma, RowStreams streams) {
  set_hidden_noise(sigma, std::nullopt);
  noise_streams_ = std::move(streams);
}

torch::Tensor PolicyImpl::hidden_noise_sample(const torch::Tensor& activity) {
  if (!is_training() || hidden_noise_ == 0.0) return {};
  const auto options = activity.options().requires_grad(false);
  if (noise_streams_) return hidden_noise_ * noise_streams_->normal(activity.size(0), activity.sizes().slice(1), options);
  return hidden_noise_ * torch::randn(activity.sizes(), options);  // torch's default generator
}

torch::Tensor PolicyImpl::add_hidden_noise(const torch::Tensor& hidden) {
  auto noise = hidden_noise_sample(hidden);
  return noise.defined() ? hidden + noise : hidden;
}

void load_parameters_checked(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                             const std::string& origin) {
  std::map<std::string, std::vector<int64_t>> expected;
  for (const auto& parameter : module.named_parameters()) expected[parameter.key()] = parameter.value().sizes().vec();
  module.load(archive);
  for (const auto& parameter : module.named_parameters()) {
    const auto& shape = expected.at(parameter.key());
    if (parameter.value().sizes().vec() != shape)
      throw InputError(origin, fmt::format("parameter '{}' has shape [{}] in the checkpoint but [{}] in this "
                                           "configuration (a different observation size, muscle count or architecture)",
                                           parameter.key(), fmt::join(parameter.value().sizes(), ", "),
                                           fmt::join(shape, ", ")));
  }
}

const OptionTable<RecurrentPolicyOptions>& recurrent_policy_option_table() {
  static const auto table =
      OptionTable<RecurrentPolicyOptions>()
          .add(MOTORNET_OPTION(hidden_size), "units per layer", checks::at_least(1))
          .add(MOTORNET_OPTION(n_layers), "recurrent layers", checks::at_least(1))
          .add(MOTORNET_OPTION(readout_bias), "initial bias of the sigmoid readout")
          .add(MOTORNET_OPTION(kernels), "auto (fused steps where available), fused or op-by-op");
  return table;
}

const OptionTable<MlpPolicyOptions>& mlp_policy_option_table() {
  static const auto table =
      OptionTable<MlpPolicyOptions>()
          .add(MOTORNET_OPTION(hidden_sizes), "units of each hidden layer",
               OptionCheck<std::vector<int64_t>>([](const std::vector<int64_t>& sizes) -> std::optional<std::string> {
                 for (auto size : sizes)
                   if (size < 1) return fmt::format("layer sizes must be at least 1, got {}", size);
                 return std::nullopt;
               }))
          .add(MOTORNET_OPTION(readout_bias), "initial bias of the sigmoid readout");
  return table;
}

namespace {

Policy recurrent_from_config(const ConfigNode& block, int64_t input_size, int64_t output_size, CellType cell) {
  std::vector<std::string> other_keys = {"type", "hidden_noise"};
  if (cell != CellType::kGru && cell != CellType::kLstm) other_keys.push_back("nonlinearity");
  block.check_keys(recurrent_policy_option_table().keys_and(other_keys));
  if (cell == CellType::kRnnTanh) {
    const std::string nonlinearity = block.get_string("nonlinearity", "tanh");
    if (nonlinearity == "relu") {
      cell = CellType::kRnnRelu;
    } else if (nonlinearity != "tanh") {
      block.at("nonlinearity").fail(fmt::format("expected tanh or relu, got '{}'", nonlinearity));
    }
  }
  auto options = recurrent_policy_option_table().assign(block, RecurrentPolicyOptions(input_size, output_size).cell(cell));
  Policy policy = under_path(block.path(), [&] { return std::make_shared<RecurrentPolicyImpl>(options); });
  under_path(block.path(), [&] { policy->set_hidden_noise(block.get_double("hidden_noise", 0.0), std::nullopt); });
  return policy;
}

NamedRegistry<PolicyFactory>& policies() {
  static NamedRegistry<PolicyFactory>* registry = [] {
    auto* r = new NamedRegistry<PolicyFactory>();
    r->add("GRU", [](const ConfigNode& b, int64_t i, int64_t o) { return recurrent_from_config(b, i, o, CellType::kGru); });
    r->add("LSTM", [](const ConfigNode& b, int64_t i, int64_t o) { return recurrent_from_config(b, i, o, CellType::kLstm); });
    r->add("RNN", [](const ConfigNode& b, int64_t i, int64_t o) { return recurrent_from_config(b, i, o, CellType::kRnnTanh); });
    r->add("MLP", [](const ConfigNode& block, int64_t input_size, int64_t output_size) -> Policy {
      auto options = mlp_policy_option_table().read(block, MlpPolicyOptions(input_size, output_size),
                                                    {"type", "hidden_noise"});
      Policy policy = under_path(block.path(), [&] { return std::make_shared<MlpPolicyImpl>(options); });
      under_path(block.path(), [&] { policy->set_hidden_noise(block.get_double("hidden_noise", 0.0), std::nullopt); });
      return policy;
    });
    return r;
  }();
  return *registry;
}

}  // namespace

void register_policy_type(const std::string& type, PolicyFactory factory) { policies().add(type, std::move(factory)); }

std::vector<std::string> policy_types() { return policies().names(); }

Policy policy_from_config(const ConfigNode& block, int64_t input_size, int64_t output_size) {
  block.require_map();
  const std::string type = block.get_string("type", "GRU");
  return policies().find(type, block.path() + ".type", "policy type")(block, input_size, output_size);
}

}  // namespace motornet
