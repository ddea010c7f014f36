// Wraps RowStep in a torch::autograd::Function: the forward runs rows in plain C++ (in parallel for large
// batches), the backward recomputes each row's step and applies its hand-derived vector-Jacobian product.
// Rows are computed in double whatever the dtype and rounded once on output.
#include "body/fused/effector_step.h"

#include "body/fused/absent_input.h"
#include "body/fused/row_io.h"
#include "body/fused/sense_rows.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace motornet::fused {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int64_t kRowsPerTask = 64;  // rows below which threading costs more than it saves

// The backward recomputes each row's step rather than reading a tape the forward kept: measured on 2026-12-04,
// keeping the tape (every stage and derivative, [B, ~2 stages] doubles per step) saved 4% of W1's instructions
// but made W1 and W2 ~8% slower in CPU time (paired runs against the same binary without it): the tapes of an
// episode (1-4 MB) push the policy's data out of the caches, and the backward reads them back from memory.
struct KernelsHolder : torch::CustomClassHolder {
  KernelsHolder(std::shared_ptr<const StepKernels> k, SensesOptions s) : kernels(std::move(k)), senses(std::move(s)) {}
  std::shared_ptr<const StepKernels> kernels;
  SensesOptions senses;  // its scale travels as an input of the node (saved for backward); unused without senses
};

torch::Tensor defined_or_absent(const torch::Tensor& load) { return load.numel() > 0 ? load : torch::Tensor(); }

torch::Tensor contiguous_or_undefined(const torch::Tensor& t) { return t.defined() ? t.contiguous() : t; }

// What a node returns besides the next state [joint, cartesian, muscle, geometry]. Custom functions cannot
// return undefined tensors, so each choice is its own node type.
enum class StepOutputs {
  kState,        // nothing more
  kSenses,       // vision [B, S] and proprioception [B, 2M] of the new state
  kObservation,  // the observation [task inputs | vision | proprioception] of the new state (senses without delay)
};

template <StepOutputs kOutputs>
class FusedEffectorStep : public torch::autograd::Function<FusedEffectorStep<kOutputs>> {
  static constexpr bool kSensing = kOutputs != StepOutputs::kState;

 public:
  // `senses_scale`: the scale [2, M] of the senses, `vision_draws` and `proprio_draws` their noise (absent where
  // the sigma is 0), `task_inputs` [B, I] the task's part of the observation (no gradient); all absent where
  // kOutputs does not use them. The rest of SensesOptions comes in `holder`.
  static variable_list forward(AutogradContext* ctx, torch::Tensor joint, torch::Tensor muscle,
                               torch::Tensor geometry, torch::Tensor action, torch::Tensor endpoint_load,
                               torch::Tensor joint_load, torch::Tensor senses_scale, torch::Tensor vision_draws,
                               torch::Tensor proprio_draws, torch::Tensor task_inputs,
                               c10::intrusive_ptr<KernelsHolder> holder) {
    endpoint_load = defined_or_absent(endpoint_load);
    joint_load = defined_or_absent(joint_load);
    joint = joint.contiguous();
    muscle = muscle.contiguous();
    geometry = geometry.contiguous();
    ctx->save_for_backward({joint, muscle, geometry, action, endpoint_load, joint_load, senses_scale});
    ctx->saved_data["kernels"] = c10::IValue::make_capsule(holder);
    ctx->set_materialize_grads(false);

    const int64_t B = joint.size(0), I = task_inputs.dim() == 2 ? task_inputs.size(1) : 0;
    const RowLayout layout(*holder->kernels);
    auto next_joint = torch::empty_like(joint), next_muscle = torch::empty_like(muscle),
         next_geometry = torch::empty_like(geometry);
    auto cartesian = torch::empty({B, 2 * layout.S}, joint.options());
    torch::Tensor vision, proprioception, observation;
    if (kOutputs == StepOutputs::kSenses) {
      vision = torch::empty({B, layout.S}, joint.options());
      proprioception = torch::empty({B, 2 * layout.M}, joint.options());
    } else if (kOutputs == StepOutputs::kObservation) {
      observation = torch::empty({B, I + layout.S + 2 * layout.M}, joint.options());
    }
    AT_DISPATCH_FLOATING_TYPES(joint.scalar_type(), "fused_effector_step", [&] {
      using T = scalar_t;
      InputRows<T> in(joint, muscle, geometry, action, endpoint_load, joint_load, layout);
      StageRows<T> out(next_joint, next_muscle, next_geometry, layout);
      Rows<T> cartesian_rows(cartesian);
      std::optional<SenseRows<T>> sense;
      SenseColumns<T> sense_out;
      std::optional<Rows<T>> inputs_in, inputs_out;
      if (kOutputs == StepOutputs::kSenses) {
        sense_out = {vision.data_ptr<T>(), layout.S, proprioception.data_ptr<T>(), 2 * layout.M};
      } else if (kOutputs == StepOutputs::kObservation) {
        const int64_t W = observation.size(1);
        T* row = observation.data_ptr<T>();
        sense_out = {row + I, W, row + I + layout.S, W};
        inputs_in.emplace(task_inputs);
        inputs_out.emplace(observation.narrow(1, 0, I));
      }
      if (kSensing) sense.emplace(holder->senses, layout, senses_scale, vision_draws, proprio_draws);
      at::parallel_for(0, B, kRowsPerTask, [&](int64_t begin, int64_t end) {
        RowStep step(*holder->kernels);
        std::vector<double> input, next(layout.stage), cart(2 * layout.S), task(I);
        for (int64_t b = begin; b < end; ++b) {
          step.forward(in.read(b, input), next.data(), cart.data());
          out.write(b, next.data());
          cartesian_rows.write(b, cart.data());
          if (sense) sense->forward(b, cart.data(), next.data() + layout.muscle, sense_out);
          if (inputs_in) {  // T -> double -> T: an exact copy
            inputs_in->read(b, task.data());
            inputs_out->write(b, task.data());
          }
        }
      });
    });
    if (kOutputs == StepOutputs::kSenses)
      return {next_joint, cartesian, next_muscle, next_geometry, vision, proprioception};
    if (kOutputs == StepOutputs::kObservation) {
      ctx->saved_data["task_inputs"] = I;
      return {next_joint, cartesian, next_muscle, next_geometry, observation};
    }
    return {next_joint, cartesian, next_muscle, next_geometry};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    // The hand-derived backward is not itself differentiable: refuse rather than return zero second derivatives.
    TORCH_CHECK(!torch::GradMode::is_enabled(),
                "the fused effector step has no double backward (create_graph); use effector kernels: op-by-op");
    auto saved = ctx->get_saved_variables();
    const auto &joint = saved[0], &muscle = saved[1], &geometry = saved[2], &action = saved[3],
               &endpoint_load = saved[4], &joint_load = saved[5], &senses_scale = saved[6];
    auto capsule = ctx->saved_data["kernels"].toCapsule();
    const auto* holder = static_cast<KernelsHolder*>(capsule.get());
    const auto& kernels = holder->kernels;
    const int64_t B = joint.size(0);
    auto grad_joint = torch::empty_like(joint), grad_muscle = torch::empty_like(muscle),
         grad_geometry = torch::empty_like(geometry);
    auto grad_action = torch::empty({B, action.size(1)}, action.options());
    torch::Tensor grad_endpoint, grad_torque;
    if (endpoint_load.defined()) grad_endpoint = torch::empty({B, endpoint_load.size(1)}, joint.options());
    if (joint_load.defined()) grad_torque = torch::empty({B, joint_load.size(1)}, joint.options());
    // Rows reads 2-D tensors with any strides (the rollout's stacked record hands back strided views); the 3-D
    // ones are read row by row as flat blocks.
    const auto &out_joint = grads[0], &out_cartesian = grads[1];
    auto out_muscle = contiguous_or_undefined(grads[2]), out_geometry = contiguous_or_undefined(grads[3]);
    // The senses' gradients join those of the state they read (what the engine would otherwise add up).
    torch::Tensor out_vision, out_proprio, out_observation;
    if (kOutputs == StepOutputs::kSenses) {
      out_vision = contiguous_or_undefined(grads[4]);
      out_proprio = contiguous_or_undefined(grads[5]);
    } else if (kOutputs == StepOutputs::kObservation) {
      out_observation = contiguous_or_undefined(grads[4]);
    }

    const RowLayout layout(*kernels);
    AT_DISPATCH_FLOATING_TYPES(joint.scalar_type(), "fused_effector_step_backward", [&] {
      using T = scalar_t;
      InputRows<T> in(joint, muscle, geometry, action, endpoint_load, joint_load, layout);
      // Undefined output gradients read as zeros; gradients of absent loads are not written.
      StageRows<T> grad_out(out_joint, out_muscle, out_geometry, layout),
          grad_in(grad_joint, grad_muscle, grad_geometry, layout);
      Rows<T> grad_cart(out_cartesian, 2 * layout.S), grad_act(grad_action), grad_fe(grad_endpoint),
          grad_fj(grad_torque);
      std::optional<SenseRows<T>> sense;
      SenseColumns<const T> sense_grad;
      if (out_vision.defined()) sense_grad.vision = out_vision.data_ptr<T>(), sense_grad.vision_stride = layout.S;
      if (out_proprio.defined())
        sense_grad.proprio = out_proprio.data_ptr<T>(), sense_grad.proprio_stride = 2 * layout.M;
      if (out_observation.defined()) {
        const int64_t I = ctx->saved_data["task_inputs"].toInt(), W = out_observation.size(1);
        const T* row = out_observation.data_ptr<T>();
        sense_grad = {row + I, W, row + I + layout.S, W};
      }
      if (sense_grad.vision || sense_grad.proprio)
        sense.emplace(holder->senses, layout, senses_scale, absent_input(), absent_input());
      at::parallel_for(0, B, kRowsPerTask, [&](int64_t begin, int64_t end) {
        RowStep step(*kernels);
        const auto& L = layout;
        std::vector<double> input, grad_next(L.stage), grad_c(2 * L.S), grad_stage(L.stage), grad_a(L.M),
            grad_e(L.S), grad_j(L.D);
        for (int64_t b = begin; b < end; ++b) {
          grad_out.read(b, grad_next.data());
          grad_cart.read(b, grad_c.data());
          if (sense) sense->backward(b, sense_grad, grad_c.data(), grad_next.data() + L.muscle);
          step.backward(in.read(b, input), grad_next.data(), grad_c.data(), grad_stage.data(), grad_a.data(),
                        grad_e.data(), grad_j.data());
          grad_in.write(b, grad_stage.data());
          grad_act.write(b, grad_a.data());
          grad_fe.write(b, grad_e.data());
          grad_fj.write(b, grad_j.data());
        }
      });
    });
    return {grad_joint,      grad_muscle,     grad_geometry,   grad_action,     grad_endpoint,  grad_torque,
            torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

EffectorState effector_initial_state(const StepKernels& kernels, const torch::Tensor& joint_state) {
  TORCH_CHECK(!joint_state.requires_grad() || !torch::GradMode::is_enabled(),
              "the fused initial state is not differentiable");
  const auto joint = joint_state.contiguous();
  const int64_t B = joint.size(0);
  const RowLayout layout(kernels);
  const int64_t n_geometry_rows = 2 + layout.D;  // lengths, velocities, a moment-arm row per dof
  const auto& muscle = *kernels.muscle;
  auto muscle_state = torch::empty({B, layout.K, layout.M}, joint.options());
  auto geometry = torch::empty({B, n_geometry_rows, layout.M}, joint.options());
  auto cartesian = torch::empty({B, 2 * layout.S}, joint.options());
  AT_DISPATCH_FLOATING_TYPES(joint.scalar_type(), "fused_initial_state", [&] {
    Rows<scalar_t> joint_rows(joint), muscle_rows(muscle_state), geometry_rows(geometry), cartesian_rows(cartesian);
    at::parallel_for(0, B, kRowsPerTask, [&](int64_t begin, int64_t end) {
      std::vector<double> q(2 * layout.D), g(n_geometry_rows * layout.M), state(layout.K * layout.M),
          cart(2 * layout.S);
      for (int64_t b = begin; b < end; ++b) {
        joint_rows.read(b, q.data());
        kernels.geometry->forward(q.data(), g.data());
        muscle.initial_state(kernels.ministep, g.data(), state.data());
        kernels.skeleton->to_cartesian(q.data(), cart.data());
        geometry_rows.write(b, g.data());
        muscle_rows.write(b, state.data());
        cartesian_rows.write(b, cart.data());
      }
    });
  });
  return {joint_state, cartesian, muscle_state, geometry};
}

EffectorState effector_step(const std::shared_ptr<const StepKernels>& kernels, const EffectorState& state,
                            const torch::Tensor& action, const torch::Tensor& endpoint_load,
                            const torch::Tensor& joint_load) {
  const auto& absent = absent_input();
  auto outputs = FusedEffectorStep<StepOutputs::kState>::apply(
      state.joint, state.muscle, state.geometry, action, or_absent(endpoint_load), or_absent(joint_load), absent,
      absent, absent, absent, c10::make_intrusive<KernelsHolder>(kernels, SensesOptions{}));
  return {outputs[0], outputs[1], outputs[2], outputs[3]};
}

SensedStep effector_step_sensed(const std::shared_ptr<const StepKernels>& kernels, const EffectorState& state,
                                const torch::Tensor& action, const torch::Tensor& endpoint_load,
                                const SensesOptions& senses, const torch::Tensor& vision_draws,
                                const torch::Tensor& proprio_draws, const torch::Tensor& task_inputs) {
  const int64_t B = state.joint.size(0);
  TORCH_CHECK(!task_inputs.defined() || (task_inputs.dim() == 2 && task_inputs.size(0) == B &&
                                         task_inputs.scalar_type() == state.joint.scalar_type() &&
                                         task_inputs.device().is_cpu() && !task_inputs.requires_grad()),
              "the task inputs of a fused observation must be [B, I] on the CPU, in the state's dtype, without "
              "gradient");
  const auto scale = senses.scale.contiguous();
  const auto draws = [](const torch::Tensor& t) { return t.defined() ? t.contiguous() : absent_input(); };
  auto holder = c10::make_intrusive<KernelsHolder>(kernels, senses);
  if (task_inputs.defined()) {
    auto outputs = FusedEffectorStep<StepOutputs::kObservation>::apply(
        state.joint, state.muscle, state.geometry, action, or_absent(endpoint_load), absent_input(), scale,
        draws(vision_draws), draws(proprio_draws), task_inputs, holder);
    return {{outputs[0], outputs[1], outputs[2], outputs[3]}, {}, {}, outputs[4]};
  }
  auto outputs = FusedEffectorStep<StepOutputs::kSenses>::apply(
      state.joint, state.muscle, state.geometry, action, or_absent(endpoint_load), absent_input(), scale,
      draws(vision_draws), draws(proprio_draws), absent_input(), holder);
  return {{outputs[0], outputs[1], outputs[2], outputs[3]}, outputs[4], outputs[5], {}};
}

}  // namespace motornet::fused
