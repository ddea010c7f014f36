#include "control/policies/gru_policy_step.h"

#include <ATen/Parallel.h>

#include <array>

#include "body/fused/absent_input.h"
#include "control/numeric/gru_gates.h"
#include "control/numeric/row_major_gemm.h"

namespace motornet {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {
std::array<const torch::Tensor*, 6> all(const GruPolicyWeights& w) {
  return {&w.w_ih, &w.w_hh, &w.b_ih, &w.b_hh, &w.w_out, &w.b_out};
}
}  // namespace

// The summed weight gradients of one chain, in GruPolicyWeights' order; empty until a step's backward adds to
// them, emptied when the collector hands them over (so a retained graph's next backward starts from zero).
struct WeightGradientLedger : torch::CustomClassHolder {
  explicit WeightGradientLedger(const GruPolicyWeights& weights) : options(weights.w_ih.options()) {
    const auto w = all(weights);
    for (size_t i = 0; i < w.size(); ++i) shapes[i] = w[i]->sizes().vec();
  }
  torch::Tensor& sum(size_t i) {
    if (!sums[i].defined()) sums[i] = torch::zeros(shapes[i], options);
    return sums[i];
  }
  std::array<std::vector<int64_t>, 6> shapes;
  torch::TensorOptions options;  // every weight's (GruPolicyStepper::applies holds them to one dtype, on the CPU)
  std::array<torch::Tensor, 6> sums;
};

// The weight matrices laid out for the products (control/numeric/row_major_gemm.h), per replica: op(B) of the
// forward's three products (the transposed weights) and of the backward's three (the weights). Every step of an
// episode multiplies by the same weights, so they are packed once per episode and set of weight values
// (GruPolicyStepper::step decides when), not at every step.
struct PackedGruWeights : torch::CustomClassHolder {
  explicit PackedGruWeights(const GruPolicyWeights& weights) : sources{weights.w_ih, weights.w_hh, weights.w_out} {
    for (size_t i = 0; i < sources.size(); ++i) {
      versions[i] = sources[i]._version();
      data[i] = sources[i].data_ptr();
    }
    const auto w_ih = weights.w_ih.contiguous(), w_hh = weights.w_hh.contiguous(), w_out = weights.w_out.contiguous();
    const int64_t K = w_ih.dim() == 3 ? w_ih.size(0) : 1, I = w_ih.size(-1), H = w_hh.size(-1), M = w_out.size(-2);
    const auto options = w_ih.options().requires_grad(false);
    auto packed = [&](int64_t rows, int64_t columns) {
      return torch::empty({K, rows, numeric::packed_width(columns)}, options);
    };
    ih_t = packed(I, 3 * H), hh_t = packed(H, 3 * H), out_t = packed(H, M);
    ih = packed(3 * H, I), hh = packed(3 * H, H), out = packed(M, H);
    AT_DISPATCH_FLOATING_TYPES(w_ih.scalar_type(), "pack_gru_weights", [&] {
      using T = scalar_t;
      for (int64_t k = 0; k < K; ++k) {
        const T *wi = w_ih.data_ptr<T>() + k * 3 * H * I, *wh = w_hh.data_ptr<T>() + k * 3 * H * H,
                *wo = w_out.data_ptr<T>() + k * M * H;
        numeric::pack_right<T>(true, I, 3 * H, wi, I, block<T>(ih_t, k));
        numeric::pack_right<T>(true, H, 3 * H, wh, H, block<T>(hh_t, k));
        numeric::pack_right<T>(true, H, M, wo, H, block<T>(out_t, k));
        numeric::pack_right<T>(false, 3 * H, I, wi, I, block<T>(ih, k));
        numeric::pack_right<T>(false, 3 * H, H, wh, H, block<T>(hh, k));
        numeric::pack_right<T>(false, M, H, wo, H, block<T>(out, k));
      }
    });
  }

  // Whether these are still the weights' values: the same tensors (held here, so no other tensor can take
  // their place), unchanged since (in-place changes such as an optimizer step count up their versions).
  bool packs(const GruPolicyWeights& weights) const {
    const std::array<const torch::Tensor*, 3> current{&weights.w_ih, &weights.w_hh, &weights.w_out};
    for (size_t i = 0; i < sources.size(); ++i)
      if (!current[i]->is_same(sources[i]) || current[i]->_version() != versions[i] ||
          current[i]->data_ptr() != data[i])  // set_data swaps the memory without a new version
        return false;
    return true;
  }

  // Replica k's block of a packed matrix, to write or to read (plain pointer arithmetic: a Tensor view per
  // product would cost a dispatch each).
  template <typename T>
  static T* block(const torch::Tensor& packed, int64_t k) {
    return packed.data_ptr<T>() + k * packed.stride(0);
  }

  std::array<torch::Tensor, 3> sources;
  std::array<int64_t, 3> versions{};
  std::array<const void*, 3> data{};
  torch::Tensor ih_t, hh_t, out_t;  // [K, I, width(3H)], [K, H, width(3H)], [K, H, width(M)]
  torch::Tensor ih, hh, out;        // [K, 3H, width(I)], [K, 3H, width(H)], [K, M, width(H)]
};

namespace {

// Runs after every step of its chain (each step takes its token as an input) and gives the weights the totals.
class WeightGradientCollector : public torch::autograd::Node {
 public:
  explicit WeightGradientCollector(c10::intrusive_ptr<WeightGradientLedger> ledger) : ledger_(std::move(ledger)) {}
  variable_list apply(variable_list&& /*token's gradient: always empty*/) override {
    variable_list grads(ledger_->sums.size());
    for (size_t i = 0; i < grads.size(); ++i) grads[i] = std::exchange(ledger_->sums[i], torch::Tensor());
    return grads;
  }
  std::string name() const override { return "GruPolicyWeightGradients"; }

 private:
  c10::intrusive_ptr<WeightGradientLedger> ledger_;
};

// How many replicas' weights are stacked (the leading dimension of w_ih), 1 for one policy's.
int64_t replicas(const torch::Tensor& w_ih) { return w_ih.dim() == 3 ? w_ih.size(0) : 1; }

// Row-wise bias broadcast: out[b, :] = bias for every row (the gemm then adds the product with beta = 1).
template <typename T>
void fill_rows(T* out, const T* bias, int64_t rows, int64_t width) {
  for (int64_t b = 0; b < rows; ++b) std::copy(bias, bias + width, out + b * width);
}

// Runs body(k) for every replica k. Replicas share nothing but read-only weights, so with LibTorch's pool they
// run side by side, one or more whole replicas per thread (the products run on the calling thread of each).
// One policy's step (K = 1) runs inline.
template <typename Body>
void for_each_replica(int64_t K, const Body& body) {
  if (K == 1) return body(0);
  at::parallel_for(0, K, 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) body(k);
  });
}

class GruPolicyStep : public torch::autograd::Function<GruPolicyStep> {
 public:
  // Saved gate buffer per row: r, z, n, and hn = h W_hn + b_hn (the part of the reset product the backward needs).
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& observation, const torch::Tensor& hidden,
                               const torch::Tensor& collector_token, const torch::Tensor& noise,
                               const GruPolicyWeights& weights, c10::intrusive_ptr<PackedGruWeights> packed,
                               c10::intrusive_ptr<WeightGradientLedger> ledger) {
    auto x = observation.contiguous(), h = hidden.contiguous();
    const auto b_ih = weights.b_ih.contiguous(), b_hh = weights.b_hh.contiguous(), b_out = weights.b_out.contiguous();
    const int64_t B = x.size(0), I = x.size(1), H = h.size(1), M = weights.w_out.size(-2);
    const int64_t K = replicas(weights.w_ih), Bk = B / K;  // replica k owns rows [k Bk, (k + 1) Bk)
    auto gates = torch::empty({B, 4 * H}, h.options());
    auto next = torch::empty({B, H}, h.options());
    auto action = torch::empty({B, M}, h.options());
    const auto noise_rows = noise.numel() > 0 ? noise.contiguous() : noise;
    AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "gru_policy_step", [&] {
      using T = scalar_t;
      thread_local std::vector<T> input_part, hidden_part;
      input_part.resize(B * 3 * H);
      hidden_part.resize(B * 3 * H);
      T *gi = input_part.data(), *gh = hidden_part.data(), *a = action.data_ptr<T>();
      const T *xs = x.data_ptr<T>(), *hs = h.data_ptr<T>();
      const T* noises = noise_rows.numel() > 0 ? noise_rows.data_ptr<T>() : nullptr;
      T *gate_rows = gates.data_ptr<T>(), *ns = next.data_ptr<T>();
      // Replica k's rows touch only its own slices of every buffer, so the replicas run side by side.
      for_each_replica(K, [&](int64_t k) {
        const int64_t row = k * Bk;
        fill_rows(gi + row * 3 * H, b_ih.data_ptr<T>() + k * 3 * H, Bk, 3 * H);
        fill_rows(gh + row * 3 * H, b_hh.data_ptr<T>() + k * 3 * H, Bk, 3 * H);
        numeric::gemm_packed<T>(false, Bk, 3 * H, I, 1, xs + row * I, I, PackedGruWeights::block<T>(packed->ih_t, k),
                                1, gi + row * 3 * H, 3 * H);
        numeric::gemm_packed<T>(false, Bk, 3 * H, H, 1, hs + row * H, H, PackedGruWeights::block<T>(packed->hh_t, k),
                                1, gh + row * 3 * H, 3 * H);
        numeric::gru_gates_forward<T>(Bk, H, gi + row * 3 * H, gh + row * 3 * H, hs + row * H,
                                      noises ? noises + row * H : nullptr, gate_rows + row * 4 * H, ns + row * H);
        fill_rows(a + row * M, b_out.data_ptr<T>() + k * M, Bk, M);
        numeric::gemm_packed<T>(false, Bk, M, H, 1, ns + row * H, H, PackedGruWeights::block<T>(packed->out_t, k), 1,
                                a + row * M, M);
        numeric::sigmoid_in_place(a + row * M, Bk * M);
      });
    });
    ctx->save_for_backward({x, h, gates, next, action, weights.w_ih, weights.w_hh, weights.w_out});
    ctx->saved_data["packed"] = c10::IValue::make_capsule(std::move(packed));
    if (ledger) ctx->saved_data["ledger"] = c10::IValue::make_capsule(std::move(ledger));
    return {action, next};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    TORCH_CHECK(!torch::GradMode::is_enabled(), "the fused GRU policy step has no double backward (create_graph)");
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &h = saved[1], &gates = saved[2], &next = saved[3], &action = saved[4];
    // The weights are saved for autograd's check that nothing changed them before this backward; the products
    // read their packed copies.
    const auto& w_ih = saved[5];
    const int64_t B = x.size(0), I = x.size(1), H = h.size(1), M = action.size(1);
    const int64_t K = replicas(w_ih), Bk = B / K;
    const bool want_x = ctx->needs_input_grad(0), want_h = ctx->needs_input_grad(1),
               want_weights = ctx->needs_input_grad(2) && ctx->saved_data.count("ledger");
    const auto packed =
        c10::static_intrusive_pointer_cast<PackedGruWeights>(ctx->saved_data["packed"].toCapsule());
    c10::intrusive_ptr<WeightGradientLedger> ledger;
    if (want_weights)
      ledger = c10::static_intrusive_pointer_cast<WeightGradientLedger>(ctx->saved_data["ledger"].toCapsule());
    const auto grad_action = grads[0].defined() ? grads[0].contiguous() : grads[0];
    const auto grad_next = grads[1].defined() ? grads[1].contiguous() : grads[1];
    torch::Tensor grad_x, grad_h;
    if (want_weights)  // the sums the replicas add to, allocated before they share the ledger
      for (size_t i = 0; i < (grad_action.defined() ? 6 : 4); ++i) ledger->sum(i);
    if (want_h) grad_h = torch::empty({B, H}, h.options());
    if (want_x) grad_x = torch::empty({B, I}, h.options());
    AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "gru_policy_step_backward", [&] {
      using T = scalar_t;
      // The gradient reaching the new hidden state: from the next step, plus through the readout.
      thread_local std::vector<T> next_grad, readout_grad, input_part, hidden_part;
      next_grad.resize(B * H);
      readout_grad.resize(B * M);
      input_part.resize(B * 3 * H);
      hidden_part.resize(B * 3 * H);
      T *g = next_grad.data(), *da = readout_grad.data(), *dgi = input_part.data(), *dgh = hidden_part.data();
      const T *prev = h.data_ptr<T>(), *xs = x.data_ptr<T>(), *ns = next.data_ptr<T>();
      const T *gates_rows = gates.data_ptr<T>(), *actions = action.data_ptr<T>();
      const T *grad_next_rows = grad_next.defined() ? grad_next.data_ptr<T>() : nullptr;
      const T *grad_action_rows = grad_action.defined() ? grad_action.data_ptr<T>() : nullptr;
      T* gh_out = want_h ? grad_h.data_ptr<T>() : nullptr;
      T* gx_out = want_x ? grad_x.data_ptr<T>() : nullptr;
      // Replica k reads and writes only its rows and its own slices of the weight gradients.
      for_each_replica(K, [&](int64_t k) {
        const int64_t row = k * Bk;
        T* g_k = g + row * H;
        if (grad_next_rows)
          std::copy(grad_next_rows + row * H, grad_next_rows + (row + Bk) * H, g_k);
        else
          std::fill(g_k, g_k + Bk * H, T(0));
        if (grad_action_rows) {
          T* da_k = da + row * M;
          numeric::sigmoid_backward(grad_action_rows + row * M, actions + row * M, da_k, Bk * M);
          numeric::gemm_packed<T>(false, Bk, H, M, 1, da_k, M, PackedGruWeights::block<T>(packed->out, k), 1, g_k, H);
          if (want_weights) {
            numeric::gemm<T>(true, false, M, H, Bk, 1, da_k, M, ns + row * H, H, 1,
                             ledger->sums[4].data_ptr<T>() + k * M * H, H);
            numeric::add_column_sums(ledger->sums[5].data_ptr<T>() + k * M, da_k, Bk, M);
          }
        }
        T *dgi_k = dgi + row * 3 * H, *dgh_k = dgh + row * 3 * H;
        numeric::gru_gates_backward<T>(Bk, H, g_k, gates_rows + row * 4 * H, prev + row * H, dgi_k, dgh_k,
                                       gh_out ? gh_out + row * H : nullptr);
        if (want_h)
          numeric::gemm_packed<T>(false, Bk, H, 3 * H, 1, dgh_k, 3 * H, PackedGruWeights::block<T>(packed->hh, k), 1,
                                  gh_out + row * H, H);
        if (want_x)
          numeric::gemm_packed<T>(false, Bk, I, 3 * H, 1, dgi_k, 3 * H, PackedGruWeights::block<T>(packed->ih, k), 0,
                                  gx_out + row * I, I);
        if (want_weights) {
          numeric::gemm<T>(true, false, 3 * H, I, Bk, 1, dgi_k, 3 * H, xs + row * I, I, 1,
                           ledger->sums[0].data_ptr<T>() + k * 3 * H * I, I);
          numeric::gemm<T>(true, false, 3 * H, H, Bk, 1, dgh_k, 3 * H, prev + row * H, H, 1,
                           ledger->sums[1].data_ptr<T>() + k * 3 * H * H, H);
          numeric::add_column_sums(ledger->sums[2].data_ptr<T>() + k * 3 * H, dgi_k, Bk, 3 * H);
          numeric::add_column_sums(ledger->sums[3].data_ptr<T>() + k * 3 * H, dgh_k, Bk, 3 * H);
        }
      });
    });
    // None for the token (the collector delivers the weights'), the noise, the weights, their packing, the ledger.
    return {grad_x, grad_h, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

bool any_requires_grad(const GruPolicyWeights& weights) {
  for (const auto* w : all(weights))
    if (w->requires_grad()) return true;
  return false;
}

}  // namespace

GruPolicyStepper::GruPolicyStepper() = default;
GruPolicyStepper::~GruPolicyStepper() = default;

bool GruPolicyStepper::applies(const torch::Tensor& observation, const torch::Tensor& hidden,
                               const GruPolicyWeights& weights) {
  const auto type = hidden.scalar_type();
  if (!hidden.device().is_cpu() || (type != torch::kFloat32 && type != torch::kFloat64)) return false;
  if (observation.scalar_type() != type || !observation.device().is_cpu()) return false;
  for (const auto* w : all(weights))
    if (w->scalar_type() != type || !w->device().is_cpu()) return false;
  // One policy's weights, or K replicas' stacked along a leading dimension with K row blocks of the batch.
  const int64_t K = replicas(weights.w_ih), stacked = weights.w_ih.dim() == 3 ? 1 : 0;
  if (weights.w_ih.dim() != 2 + stacked || weights.w_hh.dim() != 2 + stacked || weights.w_out.dim() != 2 + stacked ||
      weights.b_ih.dim() != 1 + stacked || weights.b_hh.dim() != 1 + stacked || weights.b_out.dim() != 1 + stacked)
    return false;
  for (const auto* w : all(weights))
    if (stacked && w->size(0) != K) return false;
  return observation.dim() == 2 && hidden.dim() == 2 && observation.size(0) % K == 0 &&
         hidden.size(0) == observation.size(0);
}

bool GruPolicyStepper::continues_chain(const torch::Tensor& hidden, const GruPolicyWeights& weights) const {
  const auto last = last_step_.lock();
  if (!last || !collector_token_.defined() || hidden.grad_fn() != last || hidden.output_nr() != 1) return false;
  const auto current = all(weights);
  for (size_t i = 0; i < current.size(); ++i)
    if (current[i]->unsafeGetTensorImpl() != chain_weights_[i]) return false;
  return true;
}

std::pair<torch::Tensor, torch::Tensor> GruPolicyStepper::step(const torch::Tensor& observation,
                                                               const torch::Tensor& hidden, const torch::Tensor& noise,
                                                               const GruPolicyWeights& weights) {
  torch::Tensor token = fused::absent_input();
  c10::intrusive_ptr<WeightGradientLedger> ledger;
  if (torch::GradMode::is_enabled() && any_requires_grad(weights)) {
    if (!continues_chain(hidden, weights)) {
      // A new chain: its own ledger and collector, wired to the weights' gradient accumulators.
      ledger_ = c10::make_intrusive<WeightGradientLedger>(weights);
      auto collector = std::shared_ptr<WeightGradientCollector>(new WeightGradientCollector(ledger_),
                                                                torch::autograd::deleteNode);
      collector->set_next_edges(torch::autograd::collect_next_edges(weights.w_ih, weights.w_hh, weights.b_ih,
                                                                    weights.b_hh, weights.w_out, weights.b_out));
      collector_token_ = torch::empty({}, hidden.options().requires_grad(false));
      torch::autograd::create_gradient_edge(collector_token_, collector);
      chain_weights_.clear();
      for (const auto* w : all(weights)) chain_weights_.push_back(w->unsafeGetTensorImpl());
    }
    token = collector_token_;
    ledger = ledger_;
  }  // else no ledger: no weight gradient is wanted
  // Packed again for every episode (a hidden state that is not the last step's output starts one), as well as
  // whenever the weights are other tensors or were changed in place: within an episode the weights must stay
  // unchanged anyway (the backward needs them), but between episodes they may be changed in ways that count no
  // version (through .data in Python).
  const bool continues_episode =
      last_next_hidden_.defined() && hidden.data_ptr() == last_next_hidden_.data_ptr() && hidden.numel() > 0;
  if (!continues_episode || !packed_ || !packed_->packs(weights))
    packed_ = c10::make_intrusive<PackedGruWeights>(weights);
  auto outputs = GruPolicyStep::apply(observation, hidden, token, fused::or_absent(noise), weights, packed_,
                                      std::move(ledger));
  if (outputs[1].grad_fn()) last_step_ = outputs[1].grad_fn();
  last_next_hidden_ = outputs[1].detach();  // its memory, held so that no other tensor can take its address
  return {outputs[0], outputs[1]};
}

}  // namespace motornet
