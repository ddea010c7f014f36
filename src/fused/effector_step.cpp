// Wraps RowStep in a torch::autograd::Function: the forward runs rows in plain C++ (in parallel for large
// batches), the backward recomputes each row's step and applies its hand-derived vector-Jacobian product.
// Rows are computed in double whatever the dtype and rounded once on output.
#include "effector_step.h"

#include <ATen/Parallel.h>

namespace motornet::fused {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int64_t kRowsPerTask = 64;  // rows below which threading costs more than it saves

struct KernelsHolder : torch::CustomClassHolder {
  explicit KernelsHolder(std::shared_ptr<const StepKernels> k) : kernels(std::move(k)) {}
  std::shared_ptr<const StepKernels> kernels;
};

// A [B, n] view of a tensor's rows (a stride of 0 broadcasts one row) read into or written from doubles.
template <typename T>
struct Rows {
  Rows() = default;
  explicit Rows(const torch::Tensor& t)
      : data(t.defined() ? t.data_ptr<T>() : nullptr),
        width(t.defined() ? t.numel() / std::max<int64_t>(t.size(0), 1) : 0),
        row_stride(t.defined() ? t.stride(0) : 0),
        column_stride(t.defined() && t.dim() == 2 ? t.stride(1) : 1) {}
  void read(int64_t b, double* out) const {
    const T* row = data + b * row_stride;
    for (int64_t i = 0; i < width; ++i) out[i] = static_cast<double>(row[i * column_stride]);
  }
  void write(int64_t b, const double* in) const {
    T* row = data + b * row_stride;
    for (int64_t i = 0; i < width; ++i) row[i * column_stride] = static_cast<T>(in[i]);
  }
  T* data = nullptr;
  int64_t width = 0, row_stride = 0, column_stride = 1;
};

// A stage [joint | muscle | geometry] spread over three [B, ...] tensors.
template <typename T>
struct StageRows {
  StageRows(const torch::Tensor& joint, const torch::Tensor& muscle, const torch::Tensor& geometry)
      : parts{Rows<T>(joint), Rows<T>(muscle), Rows<T>(geometry)} {}
  void read(int64_t b, double* out) const {
    for (const auto& part : parts) {
      if (part.data) part.read(b, out);
      else std::fill(out, out + part.width, 0.0);
      out += part.width;
    }
  }
  void write(int64_t b, const double* in) const {
    for (const auto& part : parts) {
      part.write(b, in);
      in += part.width;
    }
  }
  Rows<T> parts[3];
};

// Custom autograd functions cannot take undefined tensors: an absent load travels as an empty tensor.
torch::Tensor as_input(const torch::Tensor& load, const torch::Tensor& like) {
  return load.defined() ? load : torch::empty({0}, like.options());
}
torch::Tensor defined_or_absent(const torch::Tensor& load) { return load.numel() > 0 ? load : torch::Tensor(); }

torch::Tensor contiguous_or_undefined(const torch::Tensor& t) { return t.defined() ? t.contiguous() : t; }

class FusedEffectorStep : public torch::autograd::Function<FusedEffectorStep> {
 public:
  static variable_list forward(AutogradContext* ctx, torch::Tensor joint, torch::Tensor muscle,
                               torch::Tensor geometry, torch::Tensor action, torch::Tensor endpoint_load,
                               torch::Tensor joint_load, c10::intrusive_ptr<KernelsHolder> holder) {
    endpoint_load = defined_or_absent(endpoint_load);
    joint_load = defined_or_absent(joint_load);
    joint = joint.contiguous();
    muscle = muscle.contiguous();
    geometry = geometry.contiguous();
    ctx->save_for_backward({joint, muscle, geometry, action, endpoint_load, joint_load});
    ctx->saved_data["kernels"] = c10::IValue::make_capsule(holder);
    ctx->set_materialize_grads(false);

    const int64_t B = joint.size(0);
    auto next_joint = torch::empty_like(joint), next_muscle = torch::empty_like(muscle),
         next_geometry = torch::empty_like(geometry);
    auto cartesian = torch::empty({B, 2 * holder->kernels->skeleton->space_dim()}, joint.options());
    AT_DISPATCH_FLOATING_TYPES(joint.scalar_type(), "fused_effector_step", [&] {
      StageRows<scalar_t> in(joint, muscle, geometry), out(next_joint, next_muscle, next_geometry);
      Rows<scalar_t> actions(action), endpoint(endpoint_load), torque(joint_load), cartesian_rows(cartesian);
      at::parallel_for(0, B, kRowsPerTask, [&](int64_t begin, int64_t end) {
        RowStep step(*holder->kernels);
        const auto& L = step.layout();
        std::vector<double> buffer(2 * L.stage + L.M + L.S + L.D + 2 * L.S);
        double *stage = buffer.data(), *next = stage + L.stage, *act = next + L.stage, *fe = act + L.M,
               *fj = fe + L.S, *cart = fj + L.D;
        for (int64_t b = begin; b < end; ++b) {
          in.read(b, stage);
          actions.read(b, act);
          if (endpoint.data) endpoint.read(b, fe);
          if (torque.data) torque.read(b, fj);
          step.forward({stage, act, endpoint.data ? fe : nullptr, torque.data ? fj : nullptr}, next, cart);
          out.write(b, next);
          cartesian_rows.write(b, cart);
        }
      });
    });
    return {next_joint, cartesian, next_muscle, next_geometry};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    // The hand-derived backward is not itself differentiable: refuse rather than return zero second derivatives.
    TORCH_CHECK(!torch::GradMode::is_enabled(),
                "the fused effector step has no double backward (create_graph); use effector kernels: op-by-op");
    auto saved = ctx->get_saved_variables();
    const auto &joint = saved[0], &muscle = saved[1], &geometry = saved[2], &action = saved[3],
               &endpoint_load = saved[4], &joint_load = saved[5];
    auto holder = ctx->saved_data["kernels"].toCapsule();
    const auto& kernels = static_cast<KernelsHolder*>(holder.get())->kernels;
    const int64_t B = joint.size(0);
    auto grad_joint = torch::empty_like(joint), grad_muscle = torch::empty_like(muscle),
         grad_geometry = torch::empty_like(geometry);
    auto grad_action = torch::empty({B, action.size(1)}, action.options());
    torch::Tensor grad_endpoint, grad_torque;
    if (endpoint_load.defined()) grad_endpoint = torch::empty({B, endpoint_load.size(1)}, joint.options());
    if (joint_load.defined()) grad_torque = torch::empty({B, joint_load.size(1)}, joint.options());
    auto out_joint = contiguous_or_undefined(grads[0]), out_cartesian = contiguous_or_undefined(grads[1]),
         out_muscle = contiguous_or_undefined(grads[2]), out_geometry = contiguous_or_undefined(grads[3]);

    AT_DISPATCH_FLOATING_TYPES(joint.scalar_type(), "fused_effector_step_backward", [&] {
      StageRows<scalar_t> in(joint, muscle, geometry), grad_out(out_joint, out_muscle, out_geometry),
          grad_in(grad_joint, grad_muscle, grad_geometry);
      // Undefined output gradients are zero: give those parts their widths for reading.
      for (int i = 0; i < 3; ++i) grad_out.parts[i].width = in.parts[i].width;
      Rows<scalar_t> actions(action), endpoint(endpoint_load), torque(joint_load), grad_cart(out_cartesian),
          grad_act(grad_action), grad_fe(grad_endpoint), grad_fj(grad_torque);
      at::parallel_for(0, B, kRowsPerTask, [&](int64_t begin, int64_t end) {
        RowStep step(*kernels);
        const auto& L = step.layout();
        std::vector<double> buffer(3 * L.stage + 2 * L.M + 2 * L.S + 2 * L.D + 2 * L.S);
        double *stage = buffer.data(), *grad_next = stage + L.stage, *grad_stage = grad_next + L.stage,
               *act = grad_stage + L.stage, *grad_a = act + L.M, *fe = grad_a + L.M, *grad_e = fe + L.S,
               *fj = grad_e + L.S, *grad_j = fj + L.D, *grad_c = grad_j + L.D;
        for (int64_t b = begin; b < end; ++b) {
          in.read(b, stage);
          actions.read(b, act);
          if (endpoint.data) endpoint.read(b, fe);
          if (torque.data) torque.read(b, fj);
          grad_out.read(b, grad_next);
          if (grad_cart.data) grad_cart.read(b, grad_c);
          else std::fill(grad_c, grad_c + 2 * L.S, 0.0);
          step.backward({stage, act, endpoint.data ? fe : nullptr, torque.data ? fj : nullptr}, grad_next, grad_c,
                        grad_stage, grad_a, grad_e, grad_j);
          grad_in.write(b, grad_stage);
          grad_act.write(b, grad_a);
          if (grad_fe.data) grad_fe.write(b, grad_e);
          if (grad_fj.data) grad_fj.write(b, grad_j);
        }
      });
    });
    return {grad_joint, grad_muscle, grad_geometry, grad_action, grad_endpoint, grad_torque, torch::Tensor()};
  }
};

}  // namespace

EffectorState effector_step(const std::shared_ptr<const StepKernels>& kernels, const EffectorState& state,
                            const torch::Tensor& action, const torch::Tensor& endpoint_load,
                            const torch::Tensor& joint_load) {
  auto outputs = FusedEffectorStep::apply(state.joint, state.muscle, state.geometry, action,
                                          as_input(endpoint_load, action), as_input(joint_load, action),
                                          c10::make_intrusive<KernelsHolder>(kernels));
  return {outputs[0], outputs[1], outputs[2], outputs[3]};
}

}  // namespace motornet::fused
