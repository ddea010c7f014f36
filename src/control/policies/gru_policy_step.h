#pragma once
// A single-layer GRU policy's whole time step as one autograd node (internal): the cell, the hidden noise and
// the sigmoid readout, with the products done by register tiles on the weights packed once per episode
// (control/numeric/row_major_gemm.h) and the backward written out.
//
// The weight gradients are deferred. Op by op, every step hands six weight gradients to the autograd engine,
// which adds them up one step at a time (about a third of a tutorial batch). Here the steps of one chain (an
// episode, or the stretch since the hidden state was last detached) add their weight gradients into one shared
// ledger, and a single collector node, which every step feeds and the engine therefore runs after all of them,
// hands the totals to the weights. Values and gradients are those of at::gru_cell + sigmoid(addmm).
#include <torch/torch.h>

#include <memory>
#include <utility>

namespace motornet {

// One policy's weights, or K replicas' stacked along a leading dimension ([K, 3H, in], ...): replica k then owns
// the k-th of K equal row blocks of the batch.
struct GruPolicyWeights {
  torch::Tensor w_ih, w_hh, b_ih, b_hh;  // torch's GRU layout: [3H, in], [3H, H], [3H], [3H] in (r, z, n) order
  torch::Tensor w_out, b_out;            // readout [M, H], [M]
};

struct WeightGradientLedger;
struct PackedGruWeights;

class GruPolicyStepper {
 public:
  GruPolicyStepper();
  ~GruPolicyStepper();

  // Whether the fused step computes this call: CPU, float32/float64, one dtype throughout, consistent shapes.
  static bool applies(const torch::Tensor& observation, const torch::Tensor& hidden, const GruPolicyWeights& weights);

  // (action [B, M], next hidden [B, H]). `noise`, undefined or [B, H], is added to the new hidden state before
  // the readout (the policy's hidden noise).
  std::pair<torch::Tensor, torch::Tensor> step(const torch::Tensor& observation, const torch::Tensor& hidden,
                                               const torch::Tensor& noise, const GruPolicyWeights& weights);

 private:
  bool continues_chain(const torch::Tensor& hidden, const GruPolicyWeights& weights) const;

  std::weak_ptr<torch::autograd::Node> last_step_;  // the node that produced the last next-hidden
  torch::Tensor collector_token_;  // 0-dim tensor whose gradient function is the chain's collector node
  c10::intrusive_ptr<WeightGradientLedger> ledger_;
  std::vector<const c10::TensorImpl*> chain_weights_;  // the weights the collector delivers to
  c10::intrusive_ptr<PackedGruWeights> packed_;        // the weights as the products read them
  torch::Tensor last_next_hidden_;                     // the last step's next hidden state (detached)
};

}  // namespace motornet
