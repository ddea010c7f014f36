#include "fused_gru_cell.h"

#include <cmath>

namespace motornet {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class FusedGruCell : public torch::autograd::Function<FusedGruCell> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input, const torch::Tensor& hidden,
                               const torch::Tensor& w_ih, const torch::Tensor& w_hh, const torch::Tensor& b_ih,
                               const torch::Tensor& b_hh) {
    const int64_t B = hidden.size(0), H = hidden.size(1);
    auto h = hidden.contiguous();
    auto gi = torch::addmm(b_ih, input, w_ih.t());  // [B, 3H]
    auto gh = torch::addmm(b_hh, h, w_hh.t());
    auto next = torch::empty({B, H}, h.options());
    auto gates = torch::empty({B, 4 * H}, h.options());  // r, z, n and h W_hn + b_hn, for the backward pass
    AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "fused_gru_cell", [&] {
      const scalar_t *pi = gi.data_ptr<scalar_t>(), *ph = gh.data_ptr<scalar_t>(), *prev = h.data_ptr<scalar_t>();
      scalar_t *out = next.data_ptr<scalar_t>(), *saved = gates.data_ptr<scalar_t>();
      for (int64_t b = 0; b < B; ++b) {
        const scalar_t *i = pi + b * 3 * H, *g = ph + b * 3 * H;
        scalar_t* s = saved + b * 4 * H;
        for (int64_t j = 0; j < H; ++j) {
          const scalar_t r = scalar_t(1) / (scalar_t(1) + std::exp(-(i[j] + g[j])));
          const scalar_t z = scalar_t(1) / (scalar_t(1) + std::exp(-(i[H + j] + g[H + j])));
          const scalar_t n = std::tanh(i[2 * H + j] + r * g[2 * H + j]);
          out[b * H + j] = n + z * (prev[b * H + j] - n);
          s[j] = r;
          s[H + j] = z;
          s[2 * H + j] = n;
          s[3 * H + j] = g[2 * H + j];
        }
      }
    });
    ctx->save_for_backward({input, h, w_ih, w_hh, gates});
    return next;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto &input = saved[0], &h = saved[1], &w_ih = saved[2], &w_hh = saved[3], &gates = saved[4];
    const int64_t B = h.size(0), H = h.size(1);
    auto grad_next = grads[0].contiguous();
    auto grad_gi = torch::empty({B, 3 * H}, h.options()), grad_gh = torch::empty({B, 3 * H}, h.options());
    auto grad_h = torch::empty({B, H}, h.options());
    AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "fused_gru_cell_backward", [&] {
      const scalar_t *pg = grad_next.data_ptr<scalar_t>(), *ps = gates.data_ptr<scalar_t>(),
                     *prev = h.data_ptr<scalar_t>();
      scalar_t *gi = grad_gi.data_ptr<scalar_t>(), *gh = grad_gh.data_ptr<scalar_t>(), *gp = grad_h.data_ptr<scalar_t>();
      for (int64_t b = 0; b < B; ++b) {
        const scalar_t* s = ps + b * 4 * H;
        for (int64_t j = 0; j < H; ++j) {
          const scalar_t r = s[j], z = s[H + j], n = s[2 * H + j], hn = s[3 * H + j];
          const scalar_t g = pg[b * H + j];
          const scalar_t grad_n = g * (scalar_t(1) - z) * (scalar_t(1) - n * n);  // through tanh
          const scalar_t grad_z = g * (prev[b * H + j] - n) * z * (scalar_t(1) - z);
          const scalar_t grad_r = grad_n * hn * r * (scalar_t(1) - r);
          gp[b * H + j] = g * z;
          gi[b * 3 * H + j] = grad_r;
          gi[b * 3 * H + H + j] = grad_z;
          gi[b * 3 * H + 2 * H + j] = grad_n;
          gh[b * 3 * H + j] = grad_r;
          gh[b * 3 * H + H + j] = grad_z;
          gh[b * 3 * H + 2 * H + j] = grad_n * r;
        }
      }
    });
    grad_h.addmm_(grad_gh, w_hh);
    return {grad_gi.mm(w_ih), grad_h, grad_gi.t().mm(input), grad_gh.t().mm(h), grad_gi.sum(0), grad_gh.sum(0)};
  }
};

}  // namespace

torch::Tensor fused_gru_cell(const torch::Tensor& input, const torch::Tensor& hidden, const torch::Tensor& w_ih,
                             const torch::Tensor& w_hh, const torch::Tensor& b_ih, const torch::Tensor& b_hh) {
  return FusedGruCell::apply(input, hidden, w_ih, w_hh, b_ih, b_hh);
}

}  // namespace motornet
