#pragma once
// The fused effector step as one autograd node (internal; EffectorImpl::step calls it on CPU when its models
// all have fused kernels).
#include <torch/torch.h>

#include "motornet/effector.h"
#include "row_step.h"

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
