#include "control/policies/fused_gru_cell.h"

namespace motornet {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class FusedGruCell : public torch::autograd::Function<FusedGruCell> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input, const torch::Tensor& hidden,
                               const torch::Tensor& w_ih, const torch::Tensor& w_hh, const torch::Tensor& b_ih,
                               const torch::Tensor& b_hh) {
    const int64_t H = hidden.size(1);
    auto h = hidden.contiguous();
    auto gi = torch::addmm(b_ih, input, w_ih.t());  // [B, 3H]
    auto gh = torch::addmm(b_hh, h, w_hh.t());
    // Gates with ATen's vectorised sigmoid/tanh (inside a custom forward these ops record no autograd nodes):
    // a scalar loop of std::exp/std::tanh cost ~14% of an arm26 training batch.
    auto rz = gi.narrow(1, 0, 2 * H).add(gh.narrow(1, 0, 2 * H)).sigmoid_();                  // [B, 2H]: r, z
    auto n = gi.narrow(1, 2 * H, H).addcmul(rz.narrow(1, 0, H), gh.narrow(1, 2 * H, H)).tanh_();  // [B, H]
    auto next = torch::addcmul(n, rz.narrow(1, H, H), h - n);
    ctx->save_for_backward({input, h, w_ih, w_hh, rz, n, gh});
    return next;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    TORCH_CHECK(!torch::GradMode::is_enabled(), "the fused GRU cell has no double backward (create_graph)");
    auto saved = ctx->get_saved_variables();
    const auto &input = saved[0], &h = saved[1], &w_ih = saved[2], &w_hh = saved[3], &rz = saved[4], &n = saved[5],
               &gh = saved[6];
    const int64_t B = h.size(0), H = h.size(1);
    auto grad_next = grads[0].contiguous();
    auto grad_gi = torch::empty({B, 3 * H}, h.options()), grad_gh = torch::empty({B, 3 * H}, h.options());
    auto grad_h = torch::empty({B, H}, h.options());
    AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "fused_gru_cell_backward", [&] {
      const scalar_t *pg = grad_next.data_ptr<scalar_t>(), *prz = rz.data_ptr<scalar_t>(),
                     *pn = n.data_ptr<scalar_t>(), *pgh = gh.data_ptr<scalar_t>(), *prev = h.data_ptr<scalar_t>();
      scalar_t *gi = grad_gi.data_ptr<scalar_t>(), *gho = grad_gh.data_ptr<scalar_t>(), *gp = grad_h.data_ptr<scalar_t>();
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t j = 0; j < H; ++j) {
          const scalar_t r = prz[b * 2 * H + j], z = prz[b * 2 * H + H + j], nj = pn[b * H + j];
          const scalar_t hn = pgh[b * 3 * H + 2 * H + j];
          const scalar_t g = pg[b * H + j];
          const scalar_t grad_n = g * (scalar_t(1) - z) * (scalar_t(1) - nj * nj);  // through tanh
          const scalar_t grad_z = g * (prev[b * H + j] - nj) * z * (scalar_t(1) - z);
          const scalar_t grad_r = grad_n * hn * r * (scalar_t(1) - r);
          gp[b * H + j] = g * z;
          gi[b * 3 * H + j] = grad_r;
          gi[b * 3 * H + H + j] = grad_z;
          gi[b * 3 * H + 2 * H + j] = grad_n;
          gho[b * 3 * H + j] = grad_r;
          gho[b * 3 * H + H + j] = grad_z;
          gho[b * 3 * H + 2 * H + j] = grad_n * r;
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
