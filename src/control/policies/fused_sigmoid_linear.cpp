#include "control/policies/fused_sigmoid_linear.h"

namespace motornet {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class FusedSigmoidLinear : public torch::autograd::Function<FusedSigmoidLinear> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input, const torch::Tensor& weight,
                               const torch::Tensor& bias) {
    auto output = torch::addmm(bias, input, weight.t()).sigmoid_();
    ctx->save_for_backward({input, weight, output});
    return output;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    TORCH_CHECK(!torch::GradMode::is_enabled(), "the fused sigmoid readout has no double backward (create_graph)");
    auto saved = ctx->get_saved_variables();
    const auto &input = saved[0], &weight = saved[1], &output = saved[2];
    auto grad_pre = grads[0] * output * (1 - output);  // sigmoid' = s (1 - s)
    return {grad_pre.mm(weight), grad_pre.t().mm(input), grad_pre.sum(0)};
  }
};

}  // namespace

torch::Tensor fused_sigmoid_linear(const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias) {
  return FusedSigmoidLinear::apply(input, weight, bias);
}

}  // namespace motornet
