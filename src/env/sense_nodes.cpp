#include "env/sense_nodes.h"

#include <cstring>

#include "body/fused/absent_input.h"

namespace motornet::fused {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class Senses : public torch::autograd::Function<Senses> {
 public:
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& cartesian_state, const torch::Tensor& muscle_state,
                               const torch::Tensor& vision_draws, const torch::Tensor& proprio_draws,
                               const SensesOptions& options) {
    const auto cartesian = cartesian_state.contiguous(), muscle = muscle_state.contiguous();
    const auto scale = options.scale.contiguous();
    const int64_t B = cartesian.size(0), C = cartesian.size(1), S = C / 2, R = muscle.size(1), M = muscle.size(2);
    const int64_t row = options.length_row;
    auto vision = torch::empty({B, S}, cartesian.options());
    auto proprio = torch::empty({B, 2 * M}, muscle.options());
    AT_DISPATCH_FLOATING_TYPES(cartesian.scalar_type(), "senses", [&] {
      using T = scalar_t;
      const T *c = cartesian.data_ptr<T>(), *m = muscle.data_ptr<T>(), *sc = scale.data_ptr<T>();
      const T* nv = vision_draws.numel() ? vision_draws.contiguous().data_ptr<T>() : nullptr;
      const T* np = proprio_draws.numel() ? proprio_draws.contiguous().data_ptr<T>() : nullptr;
      const T sv = static_cast<T>(options.vision_sigma), sp = static_cast<T>(options.proprioception_sigma);
      T *v = vision.data_ptr<T>(), *p = proprio.data_ptr<T>();
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t i = 0; i < S; ++i) v[b * S + i] = c[b * C + i] + (nv ? sv * nv[b * S + i] : T(0));
        for (int64_t k = 0; k < 2 * M; ++k)  // k = channel * M + muscle, as the [B, 2, M] view flattens
          p[b * 2 * M + k] = m[(b * R + row) * M + k] / sc[k] + (np ? sp * np[b * 2 * M + k] : T(0));
      }
    });
    ctx->save_for_backward({scale});
    ctx->saved_data["shape"] = std::vector<int64_t>{B, C, R, M, row};
    return {vision, proprio};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    TORCH_CHECK(!torch::GradMode::is_enabled(), "the fused senses have no double backward (create_graph)");
    const auto scale = ctx->get_saved_variables()[0];
    const auto shape = ctx->saved_data["shape"].toIntVector();
    const int64_t B = shape[0], C = shape[1], S = C / 2, R = shape[2], M = shape[3], row = shape[4];
    torch::Tensor grad_cartesian, grad_muscle;
    const auto gv = grads[0].defined() ? grads[0].contiguous() : grads[0];
    const auto gp = grads[1].defined() ? grads[1].contiguous() : grads[1];
    AT_DISPATCH_FLOATING_TYPES(scale.scalar_type(), "senses_backward", [&] {
      using T = scalar_t;
      if (ctx->needs_input_grad(0)) {  // the vision gradient in the fingertip columns, zeros in the velocity ones
        grad_cartesian = torch::empty({B, C}, scale.options());
        T* out = grad_cartesian.data_ptr<T>();
        const T* in = gv.defined() ? gv.data_ptr<T>() : nullptr;
        for (int64_t b = 0; b < B; ++b)
          for (int64_t i = 0; i < C; ++i) out[b * C + i] = in && i < S ? in[b * S + i] : T(0);
      }
      if (ctx->needs_input_grad(1)) {  // the proprioception gradient over the scales in two rows, zeros elsewhere
        grad_muscle = torch::empty({B, R, M}, scale.options());
        T* out = grad_muscle.data_ptr<T>();
        const T *in = gp.defined() ? gp.data_ptr<T>() : nullptr, *sc = scale.data_ptr<T>();
        std::fill(out, out + B * R * M, T(0));
        if (in)
          for (int64_t b = 0; b < B; ++b)
            for (int64_t k = 0; k < 2 * M; ++k) out[(b * R + row) * M + k] = in[b * 2 * M + k] / sc[k];
      }
    });
    return {grad_cartesian, grad_muscle, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

class ConcatColumns : public torch::autograd::Function<ConcatColumns> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::TensorList parts) {
    int64_t width = 0;
    std::vector<int64_t> widths;
    for (const auto& part : parts) {
      widths.push_back(part.size(1));
      width += part.size(1);
    }
    const int64_t B = parts[0].size(0);
    auto out = torch::empty({B, width}, parts[0].options());
    const auto element = out.element_size();
    auto* dst = static_cast<char*>(out.data_ptr());
    int64_t offset = 0;
    for (const auto& part : parts) {
      // Rows may sit apart (a step's view of an episode tensor); only the columns must be adjacent.
      const auto p = part.size(1) <= 1 || part.stride(1) == 1 ? part : part.contiguous();
      const int64_t w = p.size(1), row_stride = p.size(1) == 0 ? 0 : p.stride(0);
      const auto* src = static_cast<const char*>(p.data_ptr());
      for (int64_t b = 0; b < B && w > 0; ++b)
        std::memcpy(dst + (b * width + offset) * element, src + b * row_stride * element, w * element);
      offset += w;
    }
    ctx->saved_data["widths"] = widths;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto widths = ctx->saved_data["widths"].toIntVector();
    const auto grad = grads[0].contiguous();
    const int64_t B = grad.size(0), width = grad.size(1);
    const auto element = grad.element_size();
    const auto* src = static_cast<const char*>(grad.data_ptr());
    variable_list out(widths.size());
    int64_t offset = 0;
    for (size_t i = 0; i < widths.size(); ++i) {
      const int64_t w = widths[i];
      if (ctx->needs_input_grad(i) && w > 0) {
        out[i] = torch::empty({B, w}, grad.options());
        auto* dst = static_cast<char*>(out[i].data_ptr());
        for (int64_t b = 0; b < B; ++b) std::memcpy(dst + b * w * element, src + (b * width + offset) * element, w * element);
      }
      offset += w;
    }
    return out;
  }
};

}  // namespace

std::pair<torch::Tensor, torch::Tensor> senses(const torch::Tensor& cartesian, const torch::Tensor& muscle,
                                               const torch::Tensor& vision_draws, const torch::Tensor& proprio_draws,
                                               const SensesOptions& options) {
  auto out = Senses::apply(cartesian, muscle, or_absent(vision_draws), or_absent(proprio_draws), options);
  return {out[0], out[1]};
}

torch::Tensor tiled_whole(const std::vector<torch::Tensor>& parts) {
  torch::Tensor whole;
  int64_t column = 0;
  for (const auto& part : parts) {
    if (!part.defined() || part.dim() != 2) return {};
    if (part.size(1) == 0) continue;
    if (!part.is_view()) return {};
    if (!whole.defined()) {
      whole = part._base();
      if (whole.dim() != 2 || !whole.is_contiguous()) return {};
    }
    if (!part._base().is_same(whole) || part.size(0) != whole.size(0) || part.stride(0) != whole.stride(0) ||
        part.stride(1) != 1 || part.storage_offset() != whole.storage_offset() + column)
      return {};
    column += part.size(1);
  }
  return whole.defined() && column == whole.size(1) ? whole : torch::Tensor();
}

torch::Tensor concat_columns(const std::vector<torch::Tensor>& parts) {
  if (auto whole = tiled_whole(parts); whole.defined()) return whole;  // already one tensor: no copy, no node
  bool fused = !parts.empty();
  for (const auto& part : parts)
    fused = fused && part.dim() == 2 && part.device().is_cpu() && part.scalar_type() == parts[0].scalar_type() &&
            part.size(0) == parts[0].size(0) && !part.is_sparse();
  return fused ? ConcatColumns::apply(torch::TensorList(parts)) : torch::cat(parts, 1);
}

}  // namespace motornet::fused
