#pragma once
// The Policy interface: a step-wise controller, forward(observation [B, I], hidden [B, H]) -> (action [B, M],
// hidden [B, H]). The hidden state is one explicit tensor (layers and, for LSTMs, cell states concatenated), so
// a rollout is a plain loop and the exported TorchScript policy has the same two-tensor signature.

#include <torch/torch.h>

#include <functional>
#include <optional>
#include <string>

#include "motornet/core/config.h"
#include "motornet/core/row_streams.h"

namespace motornet {

class PolicyImpl : public torch::nn::Module {
 public:
  ~PolicyImpl() override = default;

  virtual std::string type_name() const = 0;
  virtual int64_t input_size() const = 0;
  virtual int64_t output_size() const = 0;
  // Width H of the hidden tensor (0 for feed-forward policies).
  virtual int64_t hidden_size() const = 0;
  // Hidden state at the start of an episode: zeros [B, H].
  virtual torch::Tensor initial_hidden(int64_t batch_size) const;
  virtual std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& observation,
                                                          const torch::Tensor& hidden) = 0;
  // Writes a TorchScript module with `forward(obs, h) -> (action, h)` and `initial_hidden(batch_size)` that
  // computes exactly what `forward` computes in eval mode (no hidden noise); loadable by torch::jit::load and
  // Python's torch.jit.load.
  virtual void export_torchscript(const std::string& filename) const = 0;

  // Vectorised replicates (optional): one step of K copies of this architecture at once. `stacked` holds each
  // parameter of the K copies stacked along a new first dimension, in named_parameters() order; observation
  // [K*B, I] and hidden [K*B, H] in K row blocks, one per copy, and so are the action and hidden state returned;
  // `hidden_noise` returns each copy's hidden noise for a layer's activity [K, B, U] (it reads only the shape and
  // options), or an undefined tensor when there is none.
  // Policies without it (the default) are run copy by copy.
  virtual bool has_stacked_forward() const { return false; }
  virtual std::pair<torch::Tensor, torch::Tensor> stacked_forward(
      const std::vector<torch::Tensor>& stacked, const torch::Tensor& observation, const torch::Tensor& hidden,
      const std::function<torch::Tensor(const torch::Tensor&)>& hidden_noise) const;

  // Called by rollout before an episode's first step (after the parameters' last update); a policy can prepare
  // per-episode work here.
  virtual void start_episode() {}

  // Gaussian noise of this standard deviation is added to the hidden state in training mode, drawn from
  // `generator` (set by the trainer so that a seed fixes it) or from row streams (replicates, data-parallel
  // shards: see row_streams.h).
  void set_hidden_noise(double sigma, std::optional<torch::Generator> generator);
  void set_hidden_noise(double sigma, RowStreams streams);
  double hidden_noise() const { return hidden_noise_; }
  // Noise to add to a hidden layer's activity [rows, units] (undefined when there is none: eval mode, sigma 0).
  torch::Tensor hidden_noise_sample(const torch::Tensor& activity);

 protected:
  torch::Tensor add_hidden_noise(const torch::Tensor& hidden);

 private:
  double hidden_noise_ = 0.0;
  std::optional<RowStreams> noise_streams_;  // none: torch's default generator
};

using Policy = std::shared_ptr<PolicyImpl>;

// Loads parameters saved by `module.save` into `module`, which must have the same parameters with the same
// shapes (else an InputError naming the first mismatch; `origin` names the file).
void load_parameters_checked(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                             const std::string& origin);

// Builds a policy from its YAML block ({type: GRU|LSTM|RNN|MLP, ...}) for the given observation and action sizes.
Policy policy_from_config(const ConfigNode& block, int64_t input_size, int64_t output_size);

using PolicyFactory = std::function<Policy(const ConfigNode& block, int64_t input_size, int64_t output_size)>;
void register_policy_type(const std::string& type, PolicyFactory factory);
std::vector<std::string> policy_types();

}  // namespace motornet
