#include "motornet/body/effector.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "body/fused/effector_step.h"
#include "motornet/core/error.h"

namespace motornet {

IntegrationMethod parse_integration_method(const std::string& name, const std::string& path) {
  return parse_enum<IntegrationMethod>(name, path);
}

KernelChoice parse_kernel_choice(const std::string& name, const std::string& path) {
  return parse_enum<KernelChoice>(name, path);
}

EffectorImpl::EffectorImpl(Skeleton skeleton, Muscle muscle, EffectorOptions options)
    : skeleton_(std::move(skeleton)), muscle_(std::move(muscle)), options_(std::move(options)), path_based_(true) {
  validate_options();
  rebuild_muscles();
}

EffectorImpl::EffectorImpl(Skeleton skeleton, Muscle muscle, Geometry geometry, std::vector<MuscleEntry> muscles,
                           EffectorOptions options)
    : skeleton_(std::move(skeleton)),
      muscle_(std::move(muscle)),
      geometry_(std::move(geometry)),
      options_(std::move(options)),
      path_based_(false),
      muscles_(std::move(muscles)) {
  require(geometry_->n_muscles() == static_cast<int64_t>(muscles_.size()), "muscles",
          fmt::format("the geometry describes {} muscles but {} were given", geometry_->n_muscles(), muscles_.size()));
  validate_options();
  rebuild_muscles();
}

const OptionTable<EffectorOptions>& effector_option_table() {
  static const auto table =
      OptionTable<EffectorOptions>()
          .add(MOTORNET_OPTION(timestep), "s", checks::positive())
          .add(MOTORNET_OPTION(n_ministeps), "integration substeps per timestep", checks::at_least(1))
          .add(MOTORNET_OPTION(integration_method), "euler or rk4")
          .add(MOTORNET_OPTION(damping), "joint-space viscous damping (N m s, or N s)", checks::non_negative())
          .add(MOTORNET_OPTION(kernels), "auto (fused when every model has a kernel), fused or op-by-op")
          .add(MOTORNET_OPTION(pos_lower_bound), "joint position lower bound: one value, or one per dof (none: the skeleton's)")
          .add(MOTORNET_OPTION(pos_upper_bound), "joint position upper bound, likewise")
          .add(MOTORNET_OPTION(vel_lower_bound), "joint velocity lower bound, likewise")
          .add(MOTORNET_OPTION(vel_upper_bound), "joint velocity upper bound, likewise");
  return table;
}

void EffectorImpl::validate_options() {
  require(skeleton_ != nullptr, "skeleton", "an effector needs a skeleton");
  require(muscle_ != nullptr, "muscle", "an effector needs a muscle model");
  effector_option_table().check(options_);
  skeleton_->set_bounds(options_.pos_lower_bound(), options_.pos_upper_bound(), options_.vel_lower_bound(),
                        options_.vel_upper_bound());
  register_module("skeleton", skeleton_);
  register_module("muscle", muscle_);
}

void EffectorImpl::rebuild_muscles() {
  auto tensor_opts = tensor_options();
  muscle_->to(tensor_opts.device(), tensor_opts.dtype().toScalarType());
  muscle_->build(muscles_, ministep());
  if (path_based_) {
    std::vector<std::string> config_paths;
    for (const auto& entry : muscles_) config_paths.push_back(entry.config_path);
    geometry_ = std::make_shared<PathGeometryImpl>(skeleton_, paths_, config_paths);
  }
  if (named_children().contains("geometry")) {
    replace_module("geometry", geometry_);
  } else {
    register_module("geometry", geometry_);
  }
  geometry_->to(tensor_opts.device(), tensor_opts.dtype().toScalarType());
  muscle_names_.clear();
  for (const auto& entry : muscles_) muscle_names_.push_back(entry.name);
}

void EffectorImpl::add_muscle(const MusclePath& path, MuscleEntry entry) {
  require(path_based_, entry.config_path, "muscles can only be added to a path-based effector, not to a preset");
  if (entry.name.empty()) entry.name = fmt::format("muscle_{}", muscles_.size());
  for (const auto& existing : muscles_)
    require(existing.name != entry.name, entry.config_path.empty() ? "name" : entry.config_path + ".name",
            fmt::format("a muscle named '{}' already exists", entry.name));
  // Build into copies first so that a rejected muscle leaves the effector as it was.
  auto paths = paths_;
  auto muscles = muscles_;
  paths.push_back(path);
  muscles.push_back(std::move(entry));
  std::swap(paths, paths_);
  std::swap(muscles, muscles_);
  try {
    rebuild_muscles();
  } catch (...) {
    std::swap(paths, paths_);
    std::swap(muscles, muscles_);
    rebuild_muscles();
    throw;
  }
}

torch::Tensor EffectorImpl::random_joint_state(int64_t batch_size, std::optional<torch::Generator> generator) const {
  require(batch_size >= 1, "batch_size", fmt::format("must be at least 1, got {}", batch_size));
  const auto opts = tensor_options();
  const int64_t D = dof();
  const auto& lower = skeleton_->position_lower_bound();
  const auto& upper = skeleton_->position_upper_bound();
  c10::optional<torch::Generator> torch_generator;
  if (generator) torch_generator = *generator;
  auto uniform = torch::rand({batch_size, D}, torch_generator, opts);
  return torch::cat({lower + (upper - lower) * uniform, torch::zeros({batch_size, D}, opts)}, 1);
}

EffectorState EffectorImpl::reset(int64_t batch_size, const std::optional<torch::Tensor>& joint_state,
                                  std::optional<torch::Generator> generator) const {
  require(n_muscles() > 0, "muscles", "the effector has no muscles");
  const int64_t D = dof();
  auto opts = tensor_options();
  torch::Tensor joint;
  if (joint_state && joint_state->defined()) {
    joint = joint_state->to(opts);
    if (joint.dim() == 1) joint = joint.unsqueeze(0);
    require(joint.dim() == 2 && (joint.size(1) == D || joint.size(1) == 2 * D), "initial_joint_state",
            fmt::format("expected {} positions or {} positions and velocities per row, got shape {}", D, 2 * D,
                        fmt::format("{}", fmt::join(joint.sizes(), "x"))));
    require(torch::isfinite(joint).all().item<bool>(), "initial_joint_state", "contains non-finite values");
    if (joint.size(1) == D) joint = torch::cat({joint, torch::zeros_like(joint)}, 1);
    if (joint.size(0) == 1) {
      require(batch_size >= 1, "batch_size", fmt::format("must be at least 1, got {}", batch_size));
      joint = joint.expand({batch_size, 2 * D});
    }
    auto position = joint.narrow(1, 0, D), velocity = joint.narrow(1, D, D);
    auto outside = [](const torch::Tensor& x, const torch::Tensor& lower, const torch::Tensor& upper) {
      return (x < lower).logical_or(x > upper).any().item<bool>();
    };
    require(!outside(position, skeleton_->position_lower_bound(), skeleton_->position_upper_bound()),
            "initial_joint_state", "a joint position lies outside the position bounds");
    require(!outside(velocity, skeleton_->velocity_lower_bound(), skeleton_->velocity_upper_bound()),
            "initial_joint_state", "a joint velocity lies outside the velocity bounds");
  } else {
    joint = random_joint_state(batch_size, generator);
  }
  // A new episode: look for newly registered buffers too.
  const auto kernels = fused_kernels(/*rescan=*/true);
  if (kernels && !(joint.requires_grad() && torch::GradMode::is_enabled()))
    return fused::effector_initial_state(*kernels, joint);
  EffectorState state;
  state.joint = joint;
  state.geometry = geometry_->forward(joint);
  state.muscle = muscle_->initial_state(state.geometry);
  state.cartesian = skeleton_->joint_to_cartesian(joint);
  return state;
}

torch::Tensor EffectorImpl::load_tensor(const torch::Tensor& load, int64_t batch, int64_t width,
                                        const char* name) const {
  if (!load.defined()) return {};  // no load: nothing to add
  auto value = load.to(tensor_options());
  if (value.dim() == 1) value = value.unsqueeze(0);
  require_lazy(value.dim() == 2 && value.size(1) == width && (value.size(0) == 1 || value.size(0) == batch), name, [&] {
    return fmt::format("expected shape [{}, {}] (or one row for the batch), got {}", batch, width,
                       fmt::join(value.sizes(), "x"));
  });
  return value.size(0) == batch ? value : value.expand({batch, width});  // an expand is an autograd node per step
}

EffectorImpl::Derivative EffectorImpl::derivative(const torch::Tensor& excitation, const Stage& stage,
                                                  const torch::Tensor& endpoint_load,
                                                  const torch::Tensor& joint_load) const {
  // SPEC §2: tau = -sum_m force_m moment_{d,m} + joint_load - damping q'.
  const int64_t D = dof();
  auto force = stage.muscle.select(1, muscle_->force_row());  // [B, M]
  auto moments = stage.geometry.narrow(1, 2, D);              // [B, D, M]
  auto tau = -(moments * force.unsqueeze(1)).sum(2);
  if (joint_load.defined()) tau = tau + joint_load;
  if (options_.damping() != 0.0) tau = tau - options_.damping() * stage.joint.narrow(1, D, D);
  return {muscle_->ode(excitation, stage.muscle), skeleton_->ode(tau, stage.joint, endpoint_load)};
}

EffectorImpl::Stage EffectorImpl::integrate(double h, const Derivative& k, const Stage& stage) const {
  // SPEC §2: the muscle integrates against the geometry of the state it starts from.
  Stage next;
  next.muscle = muscle_->integrate(h, k.muscle, stage.muscle, stage.geometry);
  next.joint = skeleton_->integrate(h, k.joint, stage.joint);
  next.geometry = geometry_->forward(next.joint);
  return next;
}

void EffectorImpl::require_action(const torch::Tensor& action, int64_t batch) const {
  require_lazy(action.defined() && action.dim() == 2 && action.size(0) == batch && action.size(1) == n_muscles(),
               "action", [&] {
                 return fmt::format("expected shape [{}, {}] (batch, muscles), got {}", batch, n_muscles(),
                                    action.defined() ? fmt::format("{}", fmt::join(action.sizes(), "x")) : "nothing");
               });
}

torch::Tensor EffectorImpl::in_model_options(const torch::Tensor& t) const {
  const auto options = tensor_options();
  return t.dtype() == options.dtype() && t.device() == options.device() ? t : t.to(options);
}

EffectorState EffectorImpl::step(const EffectorState& state, const torch::Tensor& action,
                                 const torch::Tensor& endpoint_load, const torch::Tensor& joint_load) const {
  const int64_t batch = state.joint.size(0);
  require_action(action, batch);
  auto endpoint = load_tensor(endpoint_load, batch, space_dim(), "endpoint_load");
  auto joint_torque = load_tensor(joint_load, batch, dof(), "joint_load");
  if (auto kernels = fused_kernels(/*rescan=*/false))
    return fused::effector_step(kernels, state, in_model_options(action), endpoint, joint_torque);

  auto excitation = action.to(tensor_options()).clamp_min(muscle_->min_activation()).clamp_max(1.0);

  const double h = ministep();
  Stage stage{state.joint, state.muscle, state.geometry};
  for (int64_t i = 0; i < options_.n_ministeps(); ++i) {
    auto k1 = derivative(excitation, stage, endpoint, joint_torque);
    if (options_.integration_method() == IntegrationMethod::kEuler) {
      stage = integrate(h, k1, stage);
      continue;
    }
    // Classical RK4 (SPEC §2): every stage starts from the state at the beginning of the step.
    auto k2 = derivative(excitation, integrate(h / 2.0, k1, stage), endpoint, joint_torque);
    auto k3 = derivative(excitation, integrate(h / 2.0, k2, stage), endpoint, joint_torque);
    auto k4 = derivative(excitation, integrate(h, k3, stage), endpoint, joint_torque);
    Derivative combined{(k1.muscle + 2.0 * k2.muscle + 2.0 * k3.muscle + k4.muscle) / 6.0,
                        (k1.joint + 2.0 * k2.joint + 2.0 * k3.joint + k4.joint) / 6.0};
    stage = integrate(h, combined, stage);
  }
  return {stage.joint, skeleton_->joint_to_cartesian(stage.joint), stage.muscle, stage.geometry};
}

std::optional<fused::SensedStep> EffectorImpl::step_and_sense(const EffectorState& state, const torch::Tensor& action,
                                                              const torch::Tensor& endpoint_load,
                                                              const fused::SensesOptions& senses,
                                                              const torch::Tensor& vision_draws,
                                                              const torch::Tensor& proprio_draws,
                                                              const torch::Tensor& task_inputs) const {
  if (!fused::senses_apply(state.cartesian, state.muscle, senses)) return std::nullopt;
  const auto kernels = fused_kernels(/*rescan=*/false);
  if (!kernels) return std::nullopt;
  const int64_t batch = state.joint.size(0);
  require_action(action, batch);
  return fused::effector_step_sensed(kernels, state, in_model_options(action),
                                     load_tensor(endpoint_load, batch, space_dim(), "endpoint_load"), senses,
                                     vision_draws, proprio_draws, task_inputs);
}

std::shared_ptr<const fused::StepKernels> EffectorImpl::fused_kernels(bool rescan) const {
  if (options_.kernels() == KernelChoice::kOpByOp) return nullptr;
  std::lock_guard<std::mutex> lock(fused_mutex_);
  // Every step checks the buffers it already knows (their storage and version: replaced contents and in-place
  // writes both show); walking the module tree for the list itself, which costs more than a small step, is left
  // to resets and to callers outside the step loop.
  bool changed = fused_buffers_.empty() || (!fused_ && fused_missing_.empty());
  for (size_t i = 0; !changed && i < fused_buffers_.size(); ++i)
    changed = fused_key_[i] != std::make_pair<const void*, uint32_t>(fused_buffers_[i].data_ptr(),
                                                                      fused_buffers_[i]._version());
  if (rescan && !changed) {
    const auto current = buffers();
    changed = current.size() != fused_buffers_.size();
    for (size_t i = 0; !changed && i < current.size(); ++i)
      changed = !current[i].is_same(fused_buffers_[i]);
  }
  if (changed) {
    fused_buffers_ = buffers();
    fused_key_.clear();
    for (const auto& buffer : fused_buffers_) fused_key_.emplace_back(buffer.data_ptr(), buffer._version());
    build_fused_kernels();
  }
  if (!fused_)
    require(options_.kernels() != KernelChoice::kFused, "kernels",
            fmt::format("'fused' is not available here: {}; use 'auto' or 'op-by-op'", fused_missing_));
  return fused_;
}

void EffectorImpl::build_fused_kernels() const {
  fused_.reset();
  fused_missing_.clear();
  auto options = tensor_options();
  if (options.device().type() != torch::kCPU) {
    fused_missing_ = "the effector is not on the CPU";
    return;
  }
  if (options.dtype() != torch::kFloat32 && options.dtype() != torch::kFloat64) {
    fused_missing_ = "fused kernels compute float32 and float64 only";
    return;
  }
  auto kernels = std::make_shared<fused::StepKernels>();
  kernels->muscle = muscle_->fused_kernel();
  kernels->skeleton = skeleton_->fused_kernel();
  kernels->geometry = geometry_->fused_kernel();
  if (!kernels->muscle)
    fused_missing_ = fmt::format("the {} muscle model has no fused kernel", muscle_->type_name());
  else if (!kernels->skeleton)
    fused_missing_ = fmt::format("the {} skeleton has no fused kernel", skeleton_->type_name());
  else if (!kernels->geometry)
    fused_missing_ = fmt::format("the {} on a {} has no fused kernel", geometry_->type_name(), skeleton_->type_name());
  else if (dof() > fused::kMaxDof)
    fused_missing_ = fmt::format("fused kernels handle at most {} dofs", fused::kMaxDof);
  if (!fused_missing_.empty()) return;
  kernels->ministep = ministep();
  kernels->n_ministeps = options_.n_ministeps();
  kernels->runge_kutta = options_.integration_method() == IntegrationMethod::kRungeKutta4;
  kernels->damping = options_.damping();
  fused_ = std::move(kernels);
}

}  // namespace motornet
