#include "env/field_kernel.h"

#include "body/fused/tensor_values.h"

#include <algorithm>

namespace motornet::fused {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The values of a [rows, ...] tensor in row-major order, in double (zeros of `size` when undefined).
std::vector<double> table(const torch::Tensor& t, int64_t size) {
  if (!t.defined()) return std::vector<double>(size, 0.0);
  TORCH_CHECK(t.numel() == size, "a field table has ", t.numel(), " values, expected ", size);
  return values(t);
}

void append(std::vector<double>& to, const std::vector<double>& values) { to.insert(to.end(), values.begin(), values.end()); }

// A [B, n] tensor's values, read row-major into doubles (any strides, its own dtype).
void copy_out(const torch::Tensor& t, double* out) {
  AT_DISPATCH_FLOATING_TYPES(t.scalar_type(), "copy_out", [&] {
    const auto view = t.accessor<scalar_t, 2>();
    for (int64_t b = 0; b < view.size(0); ++b)
      for (int64_t i = 0; i < view.size(1); ++i) *out++ = static_cast<double>(view[b][i]);
  });
}
// Doubles written row-major into a fresh [B, n] tensor of scalar type T.
template <typename T>
void copy_in(const double* in, torch::Tensor& t) {
  T* out = t.data_ptr<T>();
  for (int64_t i = 0; i < t.numel(); ++i) out[i] = static_cast<T>(in[i]);
}

struct KernelHolder : torch::CustomClassHolder {
  explicit KernelHolder(std::shared_ptr<const FieldKernel> k) : kernel(std::move(k)) {}
  std::shared_ptr<const FieldKernel> kernel;
};

class FusedFieldForces : public torch::autograd::Function<FusedFieldForces> {
 public:
  static variable_list forward(AutogradContext* ctx, torch::Tensor cartesian, int64_t step,
                               c10::intrusive_ptr<KernelHolder> holder) {
    const auto& kernel = *holder->kernel;
    ctx->saved_data["kernel"] = c10::IValue::make_capsule(holder);
    ctx->saved_data["step"] = step;
    ctx->set_materialize_grads(false);
    const int64_t B = kernel.batch(), S = kernel.space_dim(), F = kernel.n_fields();
    TORCH_CHECK(cartesian.dim() == 2 && cartesian.size(0) == B && cartesian.size(1) == 2 * S,
                "the fused fields of this episode take a hand state [", B, ", ", 2 * S, "], got ", cartesian.sizes());
    std::vector<double> hand(B * 2 * S), forces((F + 1) * B * S);
    std::vector<double*> outputs(F + 1);
    for (int64_t f = 0; f <= F; ++f) outputs[f] = forces.data() + f * B * S;
    variable_list result;
    AT_DISPATCH_FLOATING_TYPES(cartesian.scalar_type(), "FusedFieldForces", [&] {
      copy_out(cartesian, hand.data());
      kernel.forces(step, hand.data(), outputs.data());
      for (int64_t f = 0; f <= F; ++f) {
        result.push_back(torch::empty({B, S}, cartesian.options()));
        copy_in<scalar_t>(outputs[f], result.back());
      }
    });
    return result;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    // The backward is plain arithmetic, not itself differentiable: refuse rather than return zero second
    // derivatives.
    TORCH_CHECK(!torch::GradMode::is_enabled(),
                "the fused force fields have no double backward (create_graph); use effector kernels: op-by-op");
    auto capsule = ctx->saved_data["kernel"].toCapsule();
    const auto& kernel = *static_cast<KernelHolder*>(capsule.get())->kernel;
    const int64_t step = ctx->saved_data["step"].toInt(), B = kernel.batch(), S = kernel.space_dim();
    torch::Tensor like;
    for (const auto& grad : grads)
      if (grad.defined()) like = grad;
    if (!like.defined()) return {torch::Tensor(), torch::Tensor(), torch::Tensor()};
    std::vector<std::vector<double>> values(grads.size());
    std::vector<const double*> pointers(grads.size(), nullptr);
    std::vector<double> hand_grad(B * 2 * S);
    auto result = torch::empty({B, 2 * S}, like.options());
    AT_DISPATCH_FLOATING_TYPES(like.scalar_type(), "FusedFieldForcesBackward", [&] {
      for (size_t i = 0; i < grads.size(); ++i)
        if (grads[i].defined()) {
          values[i].resize(B * S);
          copy_out(grads[i], values[i].data());
          pointers[i] = values[i].data();
        }
      kernel.hand_gradient(step, pointers.data(), hand_grad.data());
      copy_in<scalar_t>(hand_grad.data(), result);
    });
    return {result, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

std::shared_ptr<const FieldKernel> FieldKernel::build(const std::vector<std::shared_ptr<ForceField>>& fields,
                                                      const Trials& trials, int64_t n_steps, double timestep,
                                                      int64_t space_dim) {
  const int64_t F = static_cast<int64_t>(fields.size()), B = trials.batch_size(), S = space_dim;
  if (S > kMaxSpaceDim) return nullptr;
  std::shared_ptr<FieldKernel> kernel(new FieldKernel());
  kernel->n_fields_ = F;
  kernel->batch_ = B;
  kernel->space_dim_ = S;
  std::vector<torch::Tensor> switches;
  for (int64_t f = 0; f < F; ++f) {
    const auto& field = *fields[f];
    const auto& draws = trials.fields.at(f);
    auto form = field.affine_force(S, trials, draws);
    if (!form) return nullptr;
    append(kernel->position_gain_, table(form->position_gain, B * S * S));
    append(kernel->anchor_, table(form->anchor, B * S));
    append(kernel->velocity_gain_, table(form->velocity_gain, B * S * S));
    append(kernel->bias_, table(form->bias, B * S));
    switches.push_back(field.on_steps(0, n_steps, timestep, trials, draws).cpu());  // [T, B]
  }
  kernel->on_ = table(torch::stack(switches, 1), n_steps * F * B);  // [T, F, B]
  kernel->any_on_.resize(n_steps);
  for (int64_t t = 0; t < n_steps; ++t) {
    const double* on = kernel->on_.data() + t * F * B;
    kernel->any_on_[t] = std::any_of(on, on + F * B, [](double x) { return x != 0.0; });
  }
  return kernel;
}

void FieldKernel::forces(int64_t step, const double* hand, double* const* forces) const {
  const int64_t F = n_fields_, B = batch_, S = space_dim_;
  const double* on = on_.data() + step * F * B;
  double* total = forces[F];
  std::fill(total, total + B * S, 0.0);
  for (int64_t f = 0; f < F; ++f) {
    std::fill(forces[f], forces[f] + B * S, 0.0);
    for (int64_t b = 0; b < B; ++b) {
      const double switch_value = on[f * B + b];
      if (switch_value == 0.0) continue;  // the field does not apply to this trial now
      const int64_t e = entry(f, b);
      const double *position = hand + b * 2 * S, *velocity = position + S;
      const double *P = &position_gain_[e * S * S], *V = &velocity_gain_[e * S * S], *a = &anchor_[e * S],
                   *c = &bias_[e * S];
      for (int64_t i = 0; i < S; ++i) {
        double force = c[i];
        for (int64_t j = 0; j < S; ++j) force += P[i * S + j] * (position[j] - a[j]) + V[i * S + j] * velocity[j];
        forces[f][b * S + i] = switch_value * force;
        total[b * S + i] += switch_value * force;
      }
    }
  }
}

void FieldKernel::hand_gradient(int64_t step, const double* const* force_grads, double* hand_grad) const {
  const int64_t F = n_fields_, B = batch_, S = space_dim_;
  const double* on = on_.data() + step * F * B;
  std::fill(hand_grad, hand_grad + B * 2 * S, 0.0);
  for (int64_t f = 0; f < F; ++f)
    for (int64_t b = 0; b < B; ++b) {
      const double switch_value = on[f * B + b];
      if (switch_value == 0.0) continue;
      // The gradient of field f's force on trial b: from its own output and from the sum.
      double g[kMaxSpaceDim];
      for (int64_t i = 0; i < S; ++i) {
        g[i] = 0.0;
        for (const double* grad : {force_grads[f], force_grads[F]})
          if (grad) g[i] += grad[b * S + i];
        g[i] *= switch_value;
      }
      const int64_t e = entry(f, b);
      const double *P = &position_gain_[e * S * S], *V = &velocity_gain_[e * S * S];
      double *position_grad = hand_grad + b * 2 * S, *velocity_grad = position_grad + S;
      for (int64_t i = 0; i < S; ++i)
        for (int64_t j = 0; j < S; ++j) {
          position_grad[j] += P[i * S + j] * g[i];
          velocity_grad[j] += V[i * S + j] * g[i];
        }
    }
}

std::vector<torch::Tensor> field_forces(const std::shared_ptr<const FieldKernel>& kernel, int64_t step,
                                        const torch::Tensor& cartesian) {
  return FusedFieldForces::apply(cartesian, step, c10::make_intrusive<KernelHolder>(kernel));
}

}  // namespace motornet::fused
