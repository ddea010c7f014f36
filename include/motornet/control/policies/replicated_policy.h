#pragma once
// ReplicatedPolicy: K independent copies of one policy architecture (replicate networks, each with its own
// weights and hidden-noise stream) stepped together on a batch made of K blocks of rows, block k being
// replicate k's trials. Built-in policies run vectorised: each replicate's parameters are stacked once per
// episode (so gradients still reach every replicate's own tensors) and a step costs one batched matrix
// product per layer for all K; other policy types run replicate by replicate. The replicates stay ordinary
// policies: each is saved, resumed and exported on its own.

#include <vector>

#include "motornet/control/policy.h"

namespace motornet {

class ReplicatedPolicyImpl : public PolicyImpl {
 public:
  explicit ReplicatedPolicyImpl(std::vector<Policy> replicas);

  const std::vector<Policy>& replicas() const { return replicas_; }
  int64_t n_replicas() const { return static_cast<int64_t>(replicas_.size()); }
  bool vectorised() const { return replicas_.front()->has_stacked_forward(); }

  std::string type_name() const override { return replicas_.front()->type_name(); }
  int64_t input_size() const override { return replicas_.front()->input_size(); }
  int64_t output_size() const override { return replicas_.front()->output_size(); }
  int64_t hidden_size() const override { return replicas_.front()->hidden_size(); }
  torch::Tensor initial_hidden(int64_t rows) const override;
  // observation [K*B, I], hidden [K*B, H]: rows [k*B, (k+1)*B) belong to replicate k.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& observation, const torch::Tensor& hidden) override;
  void start_episode() override;
  // Replicates are exported one by one (replicas()[k]->export_torchscript); this throws.
  void export_torchscript(const std::string& filename) const override;

 private:
  void stack_parameters();
  bool stacked_is_stale() const;
  // Each replicate's hidden noise for a layer's activity [K, B, U] (undefined: none).
  torch::Tensor replicate_noise(const torch::Tensor& activity);

  std::vector<Policy> replicas_;
  std::vector<torch::Tensor> stacked_;
  std::vector<torch::Tensor> stacked_sources_;  // the replicates' parameters stacked_ was built from ...
  std::vector<int64_t> stacked_versions_;       // ... and their versions then
  bool stacked_with_grad_ = false;
};
TORCH_MODULE(ReplicatedPolicy);

}  // namespace motornet
