#include "motornet/control/policies/replicated_policy.h"

#include <fmt/format.h>

#include "motornet/core/error.h"

namespace motornet {

ReplicatedPolicyImpl::ReplicatedPolicyImpl(std::vector<Policy> replicas) : replicas_(std::move(replicas)) {
  require(!replicas_.empty(), "replicates", "expected at least one replicate policy");
  const auto& first = *replicas_.front();
  for (size_t k = 0; k < replicas_.size(); ++k) {
    const auto& replica = replicas_[k];
    require(replica != nullptr, "replicates", fmt::format("replicate {} has no policy", k));
    std::vector<std::vector<int64_t>> shapes, first_shapes;
    for (const auto& p : replica->parameters()) shapes.push_back(p.sizes().vec());
    for (const auto& p : first.parameters()) first_shapes.push_back(p.sizes().vec());
    require(replica->type_name() == first.type_name() && shapes == first_shapes &&
                replica->hidden_size() == first.hidden_size(),
            "replicates", fmt::format("replicate {} has a different architecture from replicate 0", k));
    register_module(fmt::format("replicate_{}", k), replica);
  }
}

torch::Tensor ReplicatedPolicyImpl::initial_hidden(int64_t rows) const {
  require_lazy(rows % n_replicas() == 0, "rows",
               [&] { return fmt::format("{} rows do not split into {} replicate blocks", rows, n_replicas()); });
  return replicas_.front()->initial_hidden(rows);
}

void ReplicatedPolicyImpl::start_episode() {
  for (auto& replica : replicas_) replica->start_episode();
  if (vectorised()) stack_parameters();
}

void ReplicatedPolicyImpl::stack_parameters() {
  std::vector<std::vector<torch::Tensor>> per_replica;
  for (const auto& replica : replicas_) per_replica.push_back(replica->parameters());
  stacked_.clear();
  stacked_sources_.clear();
  stacked_versions_.clear();
  for (size_t i = 0; i < per_replica.front().size(); ++i) {
    std::vector<torch::Tensor> copies;
    for (const auto& parameters : per_replica) copies.push_back(parameters[i]);
    stacked_.push_back(torch::stack(copies));
    for (const auto& copy : copies) {
      stacked_sources_.push_back(copy);
      stacked_versions_.push_back(copy._version());
    }
  }
  stacked_with_grad_ = torch::GradMode::is_enabled();
}

bool ReplicatedPolicyImpl::stacked_is_stale() const {
  if (stacked_.empty() || stacked_with_grad_ != torch::GradMode::is_enabled()) return true;
  for (size_t i = 0; i < stacked_sources_.size(); ++i)
    if (stacked_sources_[i]._version() != stacked_versions_[i]) return true;
  return false;
}

torch::Tensor ReplicatedPolicyImpl::replicate_noise(const torch::Tensor& activity) {
  std::vector<torch::Tensor> draws;
  for (int64_t k = 0; k < n_replicas(); ++k) {
    auto draw = replicas_[k]->hidden_noise_sample(activity[k]);
    if (!draw.defined()) return {};  // eval mode or no hidden noise (the same for every replicate)
    draws.push_back(draw);
  }
  return torch::stack(draws);
}

std::pair<torch::Tensor, torch::Tensor> ReplicatedPolicyImpl::forward(const torch::Tensor& observation,
                                                                      const torch::Tensor& hidden) {
  const int64_t K = n_replicas(), rows = observation.size(0);
  require_lazy(observation.dim() == 2 && observation.size(1) == input_size() && rows % K == 0, "observation", [&] {
    return fmt::format("expected [{} replicates x batch, {}], got {}", K, input_size(), fmt::join(observation.sizes(), "x"));
  });
  require_lazy(hidden.dim() == 2 && hidden.size(0) == rows && hidden.size(1) == hidden_size(), "hidden", [&] {
    return fmt::format("expected [{}, {}], got {}", rows, hidden_size(), fmt::join(hidden.sizes(), "x"));
  });
  const int64_t B = rows / K;
  if (!vectorised()) {
    std::vector<torch::Tensor> actions, states;
    for (int64_t k = 0; k < K; ++k) {
      auto [action, state] = replicas_[k]->forward(observation.narrow(0, k * B, B), hidden.narrow(0, k * B, B));
      actions.push_back(action);
      states.push_back(state);
    }
    return {torch::cat(actions), torch::cat(states)};
  }
  // Restack when the parameters changed (an optimizer step) or the grad mode did since the episode began.
  if (stacked_is_stale()) stack_parameters();
  return replicas_.front()->stacked_forward(stacked_, observation, hidden,
                                            [this](const torch::Tensor& activity) { return replicate_noise(activity); });
}

void ReplicatedPolicyImpl::export_torchscript(const std::string&) const {
  throw InputError("policy", "replicate policies are exported one by one (each replicate's own policy.pt)");
}

}  // namespace motornet
