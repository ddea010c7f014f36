#pragma once
// Environment (SPEC §7): an effector and a task seen through the senses a brain has. Each step returns an
// observation built from the task's inputs, delayed and noisy vision of the fingertip, delayed and noisy
// proprioception (normalised muscle lengths and velocities) and the last actions; the action itself gets
// motor noise before the effector, and the task's force fields push on the hand. Every random draw comes from
// the environment's seeded generator, so a seed reproduces an episode bit for bit; everything is
// differentiable end to end.
//
// Like a gym environment, an Environment runs one episode (batch) at a time: `reset` starts it and `step`
// advances it. Subclass it and override `observe` to change what the network sees.

#include <torch/torch.h>

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "motornet/body/effector.h"
#include "motornet/core/option_table.h"
#include "motornet/core/row_streams.h"
#include "motornet/env/task.h"

namespace motornet {
namespace fused {
class FieldKernel;
struct EnvironmentStepPlan;
struct StepKernels;
}

struct EnvironmentOptions {
  TORCH_ARG(double, max_ep_duration) = 1.0;                       // s
  TORCH_ARG(std::optional<double>, proprioception_delay) = std::nullopt;  // s; default one timestep (no lag)
  TORCH_ARG(std::optional<double>, vision_delay) = std::nullopt;          // s; default one timestep
  TORCH_ARG(double, proprioception_noise) = 0.0;  // standard deviations of additive Gaussian noise
  TORCH_ARG(double, vision_noise) = 0.0;
  TORCH_ARG(std::vector<double>, obs_noise) = std::vector<double>{0.0};  // one value, or one per observation entry
  TORCH_ARG(double, action_noise) = 0.0;
  TORCH_ARG(int64_t, action_frame_stacking) = 0;  // how many past actions the observation carries
  TORCH_ARG(uint64_t, seed) = 0;
};

// The `environment:` block's keys (besides `task`), defaults and checks (core/option_table.h).
const OptionTable<EnvironmentOptions>& environment_option_table();

struct ResetOptions {
  // Trials per random stream (a plain environment has one stream: the batch size). With several streams
  // (replicates) or a data-parallel shard, the episode holds streams().local_rows(batch_size) rows.
  TORCH_ARG(int64_t, batch_size) = 1;
  TORCH_ARG(bool, deterministic) = false;  // no noise at all in this episode
  TORCH_ARG(bool, evaluation) = false;     // the task's fixed evaluation conditions
  // Overrides of the drawn conditions: start joint states ([1 or B, D or 2D]) and targets ([1 or B, S]).
  TORCH_ARG(torch::Tensor, joint_state) = {};
  TORCH_ARG(torch::Tensor, target) = {};
};

// What a step reports besides the observation.
struct StepInfo {
  EffectorState states;              // after the step (after reset for `reset`)
  torch::Tensor goal;                // [B, S]: the task's goal at this step
  torch::Tensor action;              // [B, M]: as given to step (undefined after reset)
  torch::Tensor noisy_action;        // [B, M]: with motor noise, as the effector received it
  torch::Tensor endpoint_load;       // [B, S]: total force on the hand during the step
  std::map<std::string, torch::Tensor> field_forces;  // [B, S] per force field, by name
  int64_t step = 0;                  // steps taken since reset
};

struct StepResult {
  torch::Tensor observation;  // [B, observation_size]
  bool terminated = false;    // the episode's last step was taken
  StepInfo info;
};

class EnvironmentImpl : public torch::nn::Module {
 public:
  EnvironmentImpl(Effector effector, TaskPtr task, EnvironmentOptions options = {});

  StepResult reset(const ResetOptions& options = {});
  StepResult step(const torch::Tensor& action);

  int64_t n_steps() const { return n_steps_; }
  int64_t observation_size() const;
  double timestep() const { return effector_->timestep(); }
  const Effector& effector() const { return effector_; }
  const TaskPtr& task() const { return task_; }
  const EnvironmentOptions& options() const { return options_; }
  const Trials& trials() const { return trials_; }
  // Reseeds with one stream: the next reset starts the same sequence of episodes as a new environment would.
  void seed(uint64_t seed);
  // Several streams (one per replicate) and/or a data-parallel shard; see row_streams.h.
  void set_streams(RowStreams streams);
  RowStreams& streams() { return streams_; }
  // The generator of a one-stream environment.
  torch::Generator& generator();

 protected:
  // The observation after the current step from the delayed senses (override to change what is observed).
  virtual torch::Tensor observe(const torch::Tensor& task_inputs, const torch::Tensor& vision,
                                const torch::Tensor& proprioception, const torch::Tensor& action_frames);
  // `value` plus Gaussian noise of standard deviation `sigma` (unchanged in deterministic episodes).
  torch::Tensor with_noise(const torch::Tensor& value, double sigma);
  // Standard normal draws shaped like `like`, row blocks from the environment's streams.
  torch::Tensor noise(const torch::Tensor& like);
  torch::Tensor proprioception(const EffectorState& state) const;
  // The senses' noise of one step: standard normal draws for vision [B, S] then proprioception [B, 2M] from the
  // streams, each undefined where that noise is off (sigma 0, or a deterministic episode).
  std::pair<torch::Tensor, torch::Tensor> senses_noise(int64_t batch);
  // (vision, proprioception) of a state, each with its noise (`draws` from senses_noise): one fused node on the
  // CPU.
  std::pair<torch::Tensor, torch::Tensor> sense(const EffectorState& state,
                                                const std::pair<torch::Tensor, torch::Tensor>& draws);
  StepInfo info_for(const EffectorState& state) const;

 private:
  int64_t delay_steps(const std::optional<double>& delay, const char* key) const;
  // The observation from the buffers (after a reset, or a step that did not run fused).
  torch::Tensor current_observation();
  // What the fused senses need of this episode (its noise sigmas are 0 when it is deterministic).
  fused::SensesOptions senses_options() const;
  // The fused step node's constants for this episode, or nullptr when its steps run otherwise.
  std::shared_ptr<const fused::EnvironmentStepPlan> fused_step_plan() const;
  // A step as one autograd node (src/env/environment_step.h), from the action in the model's options.
  StepResult fused_step(const torch::Tensor& action, std::shared_ptr<const fused::StepKernels> kernels);
  // The forces of the task's fields that run op by op (`load`: their sum, undefined without fields).
  void op_by_op_fields(StepInfo& info, torch::Tensor& load) const;

  Effector effector_;
  TaskPtr task_;
  EnvironmentOptions options_;
  int64_t n_steps_ = 0, proprioception_lag_ = 1, vision_lag_ = 1;
  RowStreams streams_;

  // The running episode.
  bool started_ = false, deterministic_ = false;
  // The whole step as one node (delays, noise, stacked actions and fused fields in it), or nullptr.
  std::shared_ptr<const fused::EnvironmentStepPlan> step_plan_;
  // While `observe` runs after a fused step: the step's observation before and after its observation noise.
  // `observe` given the column blocks of the first returns the second (what it would compute from them).
  torch::Tensor pending_clean_, pending_observation_;
  int64_t t_ = 0;
  Trials trials_;
  EffectorState state_;
  std::deque<torch::Tensor> vision_buffer_, proprioception_buffer_, action_frames_;
  int64_t proprioception_row_ = 0;            // the muscle-length row of the muscle state
  torch::Tensor proprioception_scale_;        // [2, M] length and velocity scales (when their rows are adjacent)
  torch::Tensor no_load_, no_action_frames_;  // zeros [B, S] and [B, 0], shared by every step of the episode
  std::vector<torch::Tensor> goal_steps_, input_steps_;  // the trials' goal and inputs, a view per step
  std::vector<std::string> field_names_;                  // the task's fields, as the step info names them
  // The task's fields in one node per step (env/field_kernel.h), or nullptr: op by op.
  std::shared_ptr<const fused::FieldKernel> field_kernel_;
};
TORCH_MODULE(Environment);

}  // namespace motornet
