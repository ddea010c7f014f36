#pragma once
// The fused effector step as one autograd node (internal; EffectorImpl::step calls it on CPU when its models
// all have fused kernels).
#include <torch/torch.h>

#include "motornet/body/effector.h"
#include "body/fused/row_step.h"
#include "body/fused/senses.h"

namespace motornet::fused {

// `action` is the raw action [B, M] in the model's dtype (the step clips it to [a_min, 1]); loads [B, S] and
// [B, D] (rows may be broadcast with stride 0) or undefined.
// The state a reset starts from (SPEC §2.2, §5) for joint states [B, 2D] that need no gradient: geometry from the
// joints, the muscles' rest state (MuscleKernel::initial_state), the cartesian state.
EffectorState effector_initial_state(const StepKernels& kernels, const torch::Tensor& joint);

EffectorState effector_step(const std::shared_ptr<const StepKernels>& kernels, const EffectorState& state,
                            const torch::Tensor& action, const torch::Tensor& endpoint_load,
                            const torch::Tensor& joint_load);

}  // namespace motornet::fused

namespace motornet::fused {

// A step and what the senses read of its new state, from one autograd node: the senses' gradients join the
// state's inside its backward instead of being added up by the engine (and, for an observation without delays,
// without a concatenation node either).
struct SensedStep {
  EffectorState state;
  torch::Tensor vision;          // [B, S] (undefined when the observation was asked for)
  torch::Tensor proprioception;  // [B, 2M] (idem)
  torch::Tensor observation;     // [B, I + S + 2M]: [task inputs | vision | proprioception], when asked for
};

// effector_step (without a joint load) and senses() of its result; requires senses_apply(state...). The draws
// are standard normal [B, S] and [B, 2M], or undefined where the sigma is 0. With `task_inputs` [B, I] (no
// gradient, any strides), the senses come as the observation [task inputs | vision | proprioception] instead.
SensedStep effector_step_sensed(const std::shared_ptr<const StepKernels>& kernels, const EffectorState& state,
                                const torch::Tensor& action, const torch::Tensor& endpoint_load,
                                const SensesOptions& senses, const torch::Tensor& vision_draws,
                                const torch::Tensor& proprio_draws, const torch::Tensor& task_inputs = {});

}  // namespace motornet::fused
