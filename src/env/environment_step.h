#pragma once
// The environment's whole time step as one autograd node (internal; EnvironmentImpl::step on the CPU when its
// effector runs fused). Everything between the policy's action and the next observation happens in it: the
// motor noise on the action, the task's force fields on the hand (fused fields, from the state at the start of
// the step), the effector step, the senses of the new state, and the observation [task inputs | vision |
// proprioception | stacked actions] with the delayed senses and past actions read from earlier steps' outputs,
// plus the observation noise. Its backward hands each earlier output its column block of the observation's
// gradient and the rest to the step, so a time step is the policy's node and this one, whatever the task.
//
// The arithmetic is the op-by-op environment's (SPEC §7), in the model's dtype where that path rounds: noise is
// added as `value + sigma * draw`, forces and senses are rounded to the dtype as their tensors would be, and
// every random draw is taken by the caller, before the node, in the order the op-by-op step takes them.
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "body/fused/row_step.h"
#include "body/fused/senses.h"
#include "env/field_kernel.h"
#include "motornet/body/effector.h"

namespace motornet::fused {

// What every step of an episode shares (built at reset).
struct EnvironmentStepPlan {
  SensesOptions senses;  // noise sigmas 0 in a deterministic episode
  int64_t vision_lag = 1, proprioception_lag = 1;  // in steps; 1: the step's own senses are observed
  int64_t action_frames = 0;                       // past (noisy) actions in the observation
  double action_sigma = 0.0;                       // motor noise (0: no draws)
  // Observation noise: one standard deviation per column of the draws, which cover the observation's columns
  // from `noise_column` on (empty: none).
  std::vector<double> observation_sigma;
  int64_t noise_column = 0;
  std::shared_ptr<const FieldKernel> fields;  // the task's fields fused, or nullptr (none, or op by op)
};

struct EnvironmentStepInputs {
  std::shared_ptr<const StepKernels> kernels;  // the effector's, as they are now
  int64_t step = 0;             // the episode's step being taken (its field switches)
  EffectorState state;          // at the start of the step
  torch::Tensor action;         // [B, M] as the policy gave it, in the model's dtype
  torch::Tensor endpoint_load;  // [B, S] computed outside (fields op by op), or undefined
  // Standard normal draws, undefined where their sigma is 0: action [B, M], vision [B, S], proprioception
  // [B, 2M], observation [B, width of observation_sigma].
  torch::Tensor action_draws, vision_draws, proprio_draws, observation_draws;
  // The delayed senses this step observes (earlier steps' outputs), undefined where that lag is 1.
  torch::Tensor delayed_vision, delayed_proprio;
  std::vector<torch::Tensor> earlier_frames;  // the action_frames - 1 previous noisy actions, oldest first
  torch::Tensor task_inputs;                  // [B, I] the task's inputs seen at this step (no gradient)
};

struct EnvironmentStepOutputs {
  EffectorState state;
  torch::Tensor observation;        // [B, I + S + 2M + kM], with the observation noise
  torch::Tensor clean_observation;  // the same before the observation noise (the observation itself without)
  torch::Tensor noisy_action;       // the action the effector received (the given one without motor noise)
  torch::Tensor vision, proprioception;     // this step's senses; undefined where the lag is 1 (observed now)
  std::vector<torch::Tensor> field_forces;  // each fused field's force [B, S], then their sum; empty: none applied
};

EnvironmentStepOutputs environment_step(const std::shared_ptr<const EnvironmentStepPlan>& plan,
                                        const EnvironmentStepInputs& inputs);

}  // namespace motornet::fused
