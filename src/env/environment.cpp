#include "motornet/env/environment.h"

#include <fmt/format.h>

#include <cmath>

#include "env/environment_step.h"
#include "env/field_kernel.h"
#include "env/sense_nodes.h"
#include "motornet/core/error.h"

namespace motornet {

namespace {

// Reshapes a [1 or B, width] override to [B, width].
torch::Tensor per_trial(const torch::Tensor& value, int64_t batch, int64_t width, const char* key,
                        const torch::TensorOptions& options) {
  auto rows = value.to(options);
  if (rows.dim() == 1) rows = rows.unsqueeze(0);
  require(rows.dim() == 2 && rows.size(1) == width && (rows.size(0) == 1 || rows.size(0) == batch), key,
          fmt::format("expected shape [{}, {}] (or one row for the batch), got {}", batch, width,
                      fmt::join(rows.sizes(), "x")));
  return rows.expand({batch, width});
}
}  // namespace

const OptionTable<EnvironmentOptions>& environment_option_table() {
  static const auto table =
      OptionTable<EnvironmentOptions>()
          .add(MOTORNET_OPTION(max_ep_duration), "episode length (s)", checks::positive())
          .add(MOTORNET_OPTION(proprioception_delay), "s, a whole number of timesteps (none: one timestep)",
               checks::positive_if_set())
          .add(MOTORNET_OPTION(vision_delay), "s, a whole number of timesteps (none: one timestep)",
               checks::positive_if_set())
          .add(MOTORNET_OPTION(proprioception_noise), "standard deviation of the muscle senses' noise",
               checks::non_negative())
          .add(MOTORNET_OPTION(vision_noise), "standard deviation of the fingertip sense's noise",
               checks::non_negative())
          .add(MOTORNET_OPTION(obs_noise), "standard deviation added to the whole observation: one, or one per entry",
               checks::each_non_negative())
          .add(MOTORNET_OPTION(action_noise), "standard deviation of the motor noise (times the action)",
               checks::non_negative())
          .add(MOTORNET_OPTION(action_frame_stacking), "past actions in the observation", checks::at_least(0))
          .add(MOTORNET_OPTION(seed), "the environment's own generator (trials and noise outside training)");
  return table;
}

EnvironmentImpl::EnvironmentImpl(Effector effector, TaskPtr task, EnvironmentOptions options)
    : effector_(std::move(effector)), task_(std::move(task)), options_(std::move(options)) {
  require(task_ != nullptr, "task", "an environment needs a task");
  const double dt = effector_->timestep();
  environment_option_table().check(options_);
  // An episode is stored step by step: a timestep this small would make it too long to hold (and overflow the count).
  constexpr double kMaxSteps = 1e7;
  const double steps = options_.max_ep_duration() / dt;
  require(steps <= kMaxSteps, "max_ep_duration",
          fmt::format("{} s is {:.3g} timesteps of {} s; an episode holds at most {:.0e} steps (is the timestep too "
                      "small?)",
                      options_.max_ep_duration(), steps, dt, kMaxSteps));
  n_steps_ = static_cast<int64_t>(std::llround(steps));
  require(n_steps_ >= 1, "max_ep_duration",
          fmt::format("{} s is shorter than one timestep ({} s)", options_.max_ep_duration(), dt));
  proprioception_lag_ = delay_steps(options_.proprioception_delay(), "proprioception_delay");
  vision_lag_ = delay_steps(options_.vision_delay(), "vision_delay");
  const auto& obs_noise = options_.obs_noise();
  require(obs_noise.size() == 1 || static_cast<int64_t>(obs_noise.size()) == observation_size(), "obs_noise",
          fmt::format("expected one value or one per observation entry ({}), got {}", observation_size(),
                      obs_noise.size()));
  under_path("task", [&] { task_->validate(*effector_, dt, n_steps_); });
  register_module("effector", effector_.ptr());
  seed(options_.seed());
}

int64_t EnvironmentImpl::delay_steps(const std::optional<double>& delay, const char* key) const {
  const double dt = effector_->timestep();
  if (!delay) return 1;
  require(std::isfinite(*delay) && *delay > 0.0, key, fmt::format("must be positive, got {}", *delay));
  const double ratio = *delay / dt;
  const double whole = std::round(ratio);
  require(whole >= 1.0 && std::fabs(ratio - whole) <= 1e-9 * std::max(1.0, ratio), key,
          fmt::format("{} s is not a whole multiple of the timestep ({} s)", *delay, dt));
  return static_cast<int64_t>(whole);
}

int64_t EnvironmentImpl::observation_size() const {
  const int64_t S = effector_->space_dim(), M = effector_->n_muscles();
  return task_->n_inputs(S) + S + 2 * M + options_.action_frame_stacking() * M;
}

void EnvironmentImpl::seed(uint64_t seed) { streams_ = RowStreams(seed); }

void EnvironmentImpl::set_streams(RowStreams streams) {
  streams_ = std::move(streams);
}

torch::Generator& EnvironmentImpl::generator() {
  require(streams_.n_streams() == 1, "generator", "this environment draws from several streams; use streams()");
  return streams_.generator(0);
}

torch::Tensor EnvironmentImpl::noise(const torch::Tensor& like) {
  return streams_.normal(like.size(0), like.sizes().slice(1), like.options().requires_grad(false));
}

torch::Tensor EnvironmentImpl::with_noise(const torch::Tensor& value, double sigma) {
  if (deterministic_ || sigma == 0.0) return value;
  return value + sigma * noise(value);
}

fused::SensesOptions EnvironmentImpl::senses_options() const {
  fused::SensesOptions options;
  options.length_row = proprioception_row_;
  options.scale = proprioception_scale_;
  options.vision_sigma = deterministic_ ? 0.0 : options_.vision_noise();
  options.proprioception_sigma = deterministic_ ? 0.0 : options_.proprioception_noise();
  return options;
}

std::pair<torch::Tensor, torch::Tensor> EnvironmentImpl::senses_noise(int64_t batch) {
  const auto options = effector_->tensor_options().requires_grad(false);
  torch::Tensor vision, proprioception;
  if (!deterministic_ && options_.vision_noise() != 0.0)
    vision = streams_.normal(batch, {effector_->space_dim()}, options);
  if (!deterministic_ && options_.proprioception_noise() != 0.0)
    proprioception = streams_.normal(batch, {2 * effector_->n_muscles()}, options);
  return {vision, proprioception};
}

std::pair<torch::Tensor, torch::Tensor> EnvironmentImpl::sense(const EffectorState& state,
                                                               const std::pair<torch::Tensor, torch::Tensor>& draws) {
  const auto options = senses_options();
  if (fused::senses_apply(state.cartesian, state.muscle, options))
    return fused::senses(state.cartesian, state.muscle, draws.first, draws.second, options);
  auto vision = state.fingertip();
  auto proprio = proprioception(state);
  if (draws.first.defined()) vision = vision + options.vision_sigma * draws.first.to(vision.options());
  if (draws.second.defined()) proprio = proprio + options.proprioception_sigma * draws.second.to(proprio.options());
  return {vision, proprio};
}

torch::Tensor EnvironmentImpl::proprioception(const EffectorState& state) const {
  const auto& muscle = effector_->muscle();
  if (proprioception_scale_.defined()) {
    // Length and velocity are adjacent rows: one view, one division, one reshape (fewer autograd nodes).
    return state.muscle.narrow(1, proprioception_row_, 2).div(proprioception_scale_).flatten(1);
  }
  auto length = state.muscle.select(1, muscle->state_row("muscle length")) / muscle->proprioceptive_length_scale();
  auto velocity =
      state.muscle.select(1, muscle->state_row("muscle velocity")) / muscle->proprioceptive_velocity_scale();
  return torch::cat({length, velocity}, 1);
}

StepResult EnvironmentImpl::reset(const ResetOptions& reset) {
  const int64_t B = reset.batch_size();
  require(B >= 1, "batch_size", fmt::format("must be at least 1, got {}", B));
  const auto options = effector_->tensor_options();
  const double dt = effector_->timestep();
  deterministic_ = reset.deterministic();

  // Every stream draws its whole block of B trials (with the overrides applied to it); this process keeps its
  // shard of each block.
  auto draw_block = [&](torch::Generator& generator, int64_t rows) {
    Trials trials = task_->sample(rows, n_steps_, dt, *effector_, generator, reset.evaluation());
    if (reset.joint_state().defined()) {
      auto joint = reset.joint_state().to(options);
      if (joint.dim() == 1) joint = joint.unsqueeze(0);
      const int64_t D = effector_->dof();
      if (joint.dim() == 2 && joint.size(1) == D) joint = torch::cat({joint, torch::zeros_like(joint)}, 1);
      trials.initial_joint = per_trial(joint, rows, 2 * D, "joint_state", options);
      torch::NoGradGuard no_grad;
      trials.start = effector_->skeleton()->joint_to_cartesian(trials.initial_joint).narrow(1, 0, effector_->space_dim());
    }
    if (reset.target().defined())
      trials.target = per_trial(reset.target(), rows, effector_->space_dim(), "target", options);
    task_->compose(trials, n_steps_);
    return trials;
  };
  streams_.local_rows(B);  // checks that the shards are even before drawing anything
  trials_ = streams_.per_block<Trials>(
      B, draw_block, [](const Trials& block, int64_t begin, int64_t count) { return block.rows(begin, count); },
      &Trials::concatenate);
  trials_.goal = trials_.goal.to(options);
  trials_.inputs = trials_.inputs.to(options);
  const int64_t rows = trials_.batch_size();

  state_ = effector_->reset(rows, trials_.initial_joint);
  // Per-episode constants of the step loop.
  const auto& muscle = effector_->muscle();
  proprioception_scale_ = torch::Tensor();
  proprioception_row_ = muscle->state_row("muscle length");
  if (muscle->state_row("muscle velocity") == proprioception_row_ + 1)
    proprioception_scale_ = muscle->proprioceptive_scales().to(options);
  no_load_ = torch::zeros({rows, effector_->space_dim()}, options);
  no_action_frames_ = torch::zeros({rows, 0}, options);
  goal_steps_ = trials_.goal.unbind(1);  // one view per step, taken once
  input_steps_ = trials_.inputs.unbind(1);
  field_names_.clear();
  for (size_t i = 0; i < task_->fields().size(); ++i) field_names_.push_back(task_->field_name(i));
  // The fields run fused with a fused effector step on the CPU (their gradient meets it there).
  field_kernel_ = nullptr;
  if (!task_->fields().empty() && options.device().is_cpu() && effector_->uses_fused_kernels())
    field_kernel_ = fused::FieldKernel::build(task_->fields(), trials_, n_steps_, dt, effector_->space_dim());
  step_plan_ = fused_step_plan();
  auto [vision, proprio] = sense(state_, senses_noise(rows));
  vision_buffer_.assign(vision_lag_, vision);
  proprioception_buffer_.assign(proprioception_lag_, proprio);
  action_frames_.assign(options_.action_frame_stacking(), torch::zeros({rows, effector_->n_muscles()}, options));
  t_ = 0;
  started_ = true;

  StepResult result;
  result.info = info_for(state_);
  result.info.endpoint_load = no_load_;
  result.observation = current_observation();
  return result;
}

StepResult EnvironmentImpl::step(const torch::Tensor& action) {
  require(started_, "step", "call reset before the first step");
  require_lazy(t_ < n_steps_, "step", [&] { return fmt::format("the episode ended after {} steps; call reset", n_steps_); });
  const int64_t B = trials_.batch_size(), M = effector_->n_muscles();
  require_lazy(action.defined() && action.dim() == 2 && action.size(0) == B && action.size(1) == M, "action", [&] {
    return fmt::format("expected shape [{}, {}] (batch, muscles), got {}", B, M,
                       action.defined() ? fmt::format("{}", fmt::join(action.sizes(), "x")) : "nothing");
  });
  const auto options = effector_->tensor_options();
  auto given = action.dtype() == options.dtype() && action.device() == options.device() ? action : action.to(options);
  if (step_plan_)
    if (auto kernels = effector_->step_kernels()) return fused_step(given, std::move(kernels));
  auto noisy = with_noise(given, options_.action_noise());

  // Forces on the hand from the state at the start of the step.
  StepInfo info;
  torch::Tensor load;  // undefined: no force on the hand
  if (field_kernel_ && !field_kernel_->any_on(t_)) {
    for (const auto& name : field_names_) info.field_forces[name] = no_load_;
  } else if (field_kernel_) {
    auto forces = fused::field_forces(field_kernel_, t_, state_.cartesian);  // each field's, then the sum
    for (size_t i = 0; i < field_names_.size(); ++i) info.field_forces[field_names_[i]] = std::move(forces[i]);
    load = std::move(forces.back());
  } else {
    op_by_op_fields(info, load);
  }
  // The senses' noise is drawn before the step, in the order the fused step takes it (nothing in a step draws).
  const auto draws = senses_noise(B);
  state_ = effector_->step(state_, noisy, load);
  auto [vision, proprio] = sense(state_, draws);
  ++t_;

  vision_buffer_.pop_front();
  vision_buffer_.push_back(vision);
  proprioception_buffer_.pop_front();
  proprioception_buffer_.push_back(proprio);
  if (!action_frames_.empty()) {
    action_frames_.pop_front();
    action_frames_.push_back(noisy);
  }

  StepResult result;
  auto field_forces = std::move(info.field_forces);
  result.info = info_for(state_);
  result.info.field_forces = std::move(field_forces);
  result.info.action = given;
  result.info.noisy_action = noisy;
  result.info.endpoint_load = load.defined() ? load : no_load_;
  result.observation = current_observation();
  result.terminated = t_ >= n_steps_;
  return result;
}

void EnvironmentImpl::op_by_op_fields(StepInfo& info, torch::Tensor& load) const {
  for (size_t i = 0; i < task_->fields().size(); ++i) {
    auto force = task_->fields()[i]->force(t_, timestep(), state_, trials_, trials_.fields[i]);
    info.field_forces[field_names_[i]] = force;
    load = load.defined() ? load + force : force;
  }
}

std::shared_ptr<const fused::EnvironmentStepPlan> EnvironmentImpl::fused_step_plan() const {
  // Task inputs that carry a gradient (a user's differentiable targets) keep the op-by-op observation.
  if (!effector_->tensor_options().device().is_cpu() || !effector_->uses_fused_kernels() ||
      trials_.inputs.requires_grad())
    return nullptr;
  auto plan = std::make_shared<fused::EnvironmentStepPlan>();
  plan->senses = senses_options();
  if (!fused::senses_apply(state_.cartesian, state_.muscle, plan->senses)) return nullptr;
  plan->vision_lag = vision_lag_;
  plan->proprioception_lag = proprioception_lag_;
  plan->action_frames = options_.action_frame_stacking();
  plan->action_sigma = deterministic_ ? 0.0 : options_.action_noise();
  const auto& obs_noise = options_.obs_noise();
  const int64_t task_columns = task_->n_inputs(effector_->space_dim());
  if (!deterministic_ && obs_noise.size() == 1 && obs_noise[0] != 0.0) {
    // One value: noise on the senses and stacked actions; the task's part stays noise free (SPEC §7).
    plan->noise_column = task_columns;
    plan->observation_sigma.assign(observation_size() - task_columns, obs_noise[0]);
  } else if (!deterministic_ && obs_noise.size() > 1) {
    plan->observation_sigma = obs_noise;  // one per entry (drawn for every entry, as op by op)
  }
  plan->fields = field_kernel_;
  return plan;
}

StepResult EnvironmentImpl::fused_step(const torch::Tensor& given, std::shared_ptr<const fused::StepKernels> kernels) {
  const auto& plan = *step_plan_;
  const int64_t B = trials_.batch_size(), S = effector_->space_dim(), M = effector_->n_muscles();
  const auto draw_options = effector_->tensor_options().requires_grad(false);
  fused::EnvironmentStepInputs in;
  in.kernels = std::move(kernels);
  in.step = t_;
  in.state = state_;
  in.action = given;
  // Every draw before the node, in the order the op-by-op step takes them: the motor noise, the senses' noise,
  // then the observation's.
  if (plan.action_sigma != 0.0) in.action_draws = noise(given);
  StepInfo info;
  torch::Tensor load;
  if (!field_kernel_) {
    op_by_op_fields(info, load);
    if (load.defined()) in.endpoint_load = effector_->endpoint_load_rows(load, B);
  }
  std::tie(in.vision_draws, in.proprio_draws) = senses_noise(B);
  if (!plan.observation_sigma.empty())
    in.observation_draws = streams_.normal(B, {static_cast<int64_t>(plan.observation_sigma.size())}, draw_options);
  // Before this step the buffers' second entries are what the observation after it shows (SPEC §7).
  if (vision_lag_ > 1) in.delayed_vision = vision_buffer_.at(1);
  if (proprioception_lag_ > 1) in.delayed_proprio = proprioception_buffer_.at(1);
  if (!action_frames_.empty()) in.earlier_frames.assign(action_frames_.begin() + 1, action_frames_.end());
  in.task_inputs = input_steps_.at(std::max<int64_t>(t_ + 2 - vision_lag_, 0));
  auto out = fused::environment_step(step_plan_, in);
  state_ = std::move(out.state);
  ++t_;

  const int64_t I = in.task_inputs.size(1), frames = options_.action_frame_stacking();
  // One op for the views; without stacked actions their block is the episode's empty [B, 0] (one view fewer).
  auto blocks = frames > 0 ? out.clean_observation.split_with_sizes({I, S, 2 * M, frames * M}, 1)
                           : out.clean_observation.split_with_sizes({I, S, 2 * M}, 1);
  if (frames == 0) blocks.push_back(no_action_frames_);
  vision_buffer_.pop_front();
  vision_buffer_.push_back(out.vision.defined() ? out.vision : blocks[1]);
  proprioception_buffer_.pop_front();
  proprioception_buffer_.push_back(out.proprioception.defined() ? out.proprioception : blocks[2]);
  if (!action_frames_.empty()) {
    action_frames_.pop_front();
    action_frames_.push_back(out.noisy_action);
  }

  StepResult result;
  auto field_forces = std::move(info.field_forces);
  result.info = info_for(state_);
  result.info.field_forces = std::move(field_forces);
  if (field_kernel_) {
    const bool applied = !out.field_forces.empty();
    for (size_t i = 0; i < field_names_.size(); ++i)
      result.info.field_forces[field_names_[i]] = applied ? out.field_forces[i] : no_load_;
    if (applied) load = out.field_forces.back();
  }
  result.info.action = given;
  result.info.noisy_action = out.noisy_action;
  result.info.endpoint_load = load.defined() ? load : no_load_;
  // `observe` sees the column blocks of the step's observation (before its noise); given them unchanged, the
  // default returns the step's own observation (see observe).
  struct Pending {
    EnvironmentImpl& environment;
    ~Pending() {
      environment.pending_clean_.reset();
      environment.pending_observation_.reset();
    }
  } pending{*this};
  pending_clean_ = out.clean_observation;
  pending_observation_ = out.observation;
  result.observation = observe(blocks[0], blocks[1], blocks[2], blocks[3]);
  result.terminated = t_ >= n_steps_;
  return result;
}

StepInfo EnvironmentImpl::info_for(const EffectorState& state) const {
  StepInfo info;
  info.states = state;
  info.goal = goal_steps_.at(t_);
  info.step = t_;
  return info;
}

torch::Tensor EnvironmentImpl::current_observation() {
  // SPEC §7: after step t the delayed channels carry the value of step max(t - k + 1, 0): the front of a
  // buffer of the last k values. The task's inputs (cues, targets) are seen through the vision delay.
  const auto& inputs = input_steps_.at(std::max<int64_t>(t_ - vision_lag_ + 1, 0));
  std::vector<torch::Tensor> frames(action_frames_.begin(), action_frames_.end());
  auto stacked = frames.empty() ? no_action_frames_ : frames.size() == 1 ? frames[0] : torch::cat(frames, 1);
  return observe(inputs, vision_buffer_.front(), proprioception_buffer_.front(), stacked);
}

torch::Tensor EnvironmentImpl::observe(const torch::Tensor& task_inputs, const torch::Tensor& vision,
                                       const torch::Tensor& proprioception, const torch::Tensor& action_frames) {
  // After a fused step, its own observation when these are its blocks (the noise below is already in it).
  if (pending_clean_.defined() &&
      fused::tiled_whole({task_inputs, vision, proprioception, action_frames}).is_same(pending_clean_))
    return pending_observation_;
  const auto& obs_noise = options_.obs_noise();
  if (obs_noise.size() == 1 && (deterministic_ || obs_noise[0] == 0.0))
    return fused::concat_columns({task_inputs, vision, proprioception, action_frames});  // one node
  auto senses = fused::concat_columns({vision, proprioception, action_frames});
  if (obs_noise.size() == 1) {
    // One value: noise on the senses; the task's part (the goal, cues) stays noise free (SPEC §7).
    return fused::concat_columns({task_inputs, with_noise(senses, obs_noise[0])});
  }
  auto observation = fused::concat_columns({task_inputs, senses});
  if (deterministic_) return observation;
  auto sigma = torch::tensor(obs_noise, torch::kFloat64).to(observation.options());
  return observation + sigma * noise(observation);
}

}  // namespace motornet
