#include "motornet/env/force_field.h"

#include <fmt/format.h>

#include <limits>

#include "motornet/core/error.h"

namespace motornet {

namespace {
int64_t steps_for(double seconds, double timestep) { return static_cast<int64_t>(std::llround(seconds / timestep)); }
}  // namespace

const OptionTable<ForceFieldOptions>& force_field_option_table() {
  static const auto table =
      OptionTable<ForceFieldOptions>()
          .add(MOTORNET_OPTION(name), "its name in the step info and records (default: type and index)")
          .add(MOTORNET_OPTION(fraction), "fraction of trials it applies to, drawn per trial", checks::fraction())
          .add(MOTORNET_OPTION(start_time), "s: on from this time ...", checks::non_negative())
          .add(MOTORNET_OPTION(end_time), "s: ... until before this time")
          .add(MOTORNET_OPTION(off_before_go_cue), "off until the trial's go cue")
          .rule("end_time", [](const ForceFieldOptions& o) -> std::optional<std::string> {
            if (o.end_time() > o.start_time()) return std::nullopt;
            return fmt::format("must be after start_time ({}), got {}", o.start_time(), o.end_time());
          });
  return table;
}

ForceField::ForceField(ForceFieldOptions options) : options_(std::move(options)) {
  force_field_option_table().check(options_);
}

torch::Tensor AffineForce::evaluate(const torch::Tensor& cartesian) const {
  const int64_t B = cartesian.size(0), S = cartesian.size(1) / 2;
  const auto options = cartesian.options();
  torch::Tensor force;
  auto add = [&](const torch::Tensor& term) { force = force.defined() ? force + term : term; };
  if (position_gain.defined()) {
    auto offset = cartesian.narrow(1, 0, S);
    if (anchor.defined()) offset = offset - anchor.to(options);
    add(torch::matmul(position_gain.to(options), offset.unsqueeze(2)).squeeze(2));
  }
  if (velocity_gain.defined())
    add(torch::matmul(velocity_gain.to(options), cartesian.narrow(1, S, S).unsqueeze(2)).squeeze(2));
  if (bias.defined()) add(bias.to(options));
  return force.defined() ? force : torch::zeros({B, S}, options);
}

FieldTrials ForceField::sample(int64_t batch_size, int64_t space_dim, double timestep, torch::Generator& generator) const {
  FieldTrials draws;
  auto uniform = torch::rand({batch_size}, generator, torch::kFloat64);
  draws.active = (uniform < options_.fraction()).to(torch::kFloat64);
  return draws;
}

// Windows are judged on the step index, so that start/end times that are whole multiples of the timestep are
// exact.
int64_t ForceField::first_step(double timestep) const { return steps_for(options_.start_time(), timestep); }
int64_t ForceField::end_step(double timestep) const {
  return std::isinf(options_.end_time()) ? std::numeric_limits<int64_t>::max() : steps_for(options_.end_time(), timestep);
}

torch::Tensor ForceField::on_steps(int64_t first, int64_t count, double timestep, const Trials& trials,
                                   const FieldTrials& draws) const {
  const auto device = draws.active.device();
  auto steps = torch::arange(first, first + count, torch::TensorOptions(torch::kInt64).device(device)).unsqueeze(1);
  auto on = steps.ge(first_step(timestep)).logical_and(steps.lt(end_step(timestep)));
  if (options_.off_before_go_cue()) on = on.logical_and(trials.go_cue_step.to(device).unsqueeze(0).le(steps));
  return on.to(torch::kFloat64) * draws.active.to(torch::kFloat64).unsqueeze(0);
}

torch::Tensor ForceField::force(int64_t step, double timestep, const EffectorState& state, const Trials& trials,
                                const FieldTrials& draws) const {
  auto options = state.cartesian.options();
  if (step < first_step(timestep) || step >= end_step(timestep))
    return torch::zeros({state.cartesian.size(0), state.cartesian.size(1) / 2}, options);
  auto on = on_steps(step, 1, timestep, trials, draws)[0].to(options);
  const auto form = affine_force(state.cartesian.size(1) / 2, trials, draws);
  const auto raw = form ? form->evaluate(state.cartesian) : raw_force(step, timestep, state, trials, draws);
  return raw * on.unsqueeze(1);
}

torch::Tensor ForceField::raw_force(int64_t, double, const EffectorState&, const Trials&, const FieldTrials&) const {
  throw InputError("type", fmt::format("the field type '{}' defines neither affine_force nor raw_force", type_name()));
}

namespace {
// [B, S, S] copies of one S x S matrix (row-major values).
torch::Tensor per_trial_matrix(int64_t batch, int64_t space_dim, std::vector<double> values) {
  return torch::tensor(values, torch::kFloat64).reshape({1, space_dim, space_dim}).expand({batch, space_dim, space_dim});
}
}  // namespace

CurlField::CurlField(double strength, ForceFieldOptions options) : ForceField(std::move(options)), strength_(strength) {}

std::optional<AffineForce> CurlField::affine_force(int64_t space_dim, const Trials&, const FieldTrials& draws) const {
  require(space_dim == 2, "type", "a curl field needs a planar effector (space_dim 2)");
  // F = k [[0, 1], [-1, 0]] v = k (v_y, -v_x)
  AffineForce form;
  form.velocity_gain = per_trial_matrix(draws.active.size(0), 2, {0.0, strength_, -strength_, 0.0});
  return form;
}

ViscousField::ViscousField(double viscosity, ForceFieldOptions options)
    : ForceField(std::move(options)), viscosity_(viscosity) {}

std::optional<AffineForce> ViscousField::affine_force(int64_t space_dim, const Trials&,
                                                      const FieldTrials& draws) const {
  AffineForce form;  // F = -b v
  form.velocity_gain =
      (-viscosity_ * torch::eye(space_dim, torch::kFloat64)).expand({draws.active.size(0), space_dim, space_dim});
  return form;
}

ConstantLoad::ConstantLoad(std::vector<double> force, ForceFieldOptions options)
    : ForceField(std::move(options)), force_(std::move(force)) {}

std::optional<AffineForce> ConstantLoad::affine_force(int64_t space_dim, const Trials&,
                                                      const FieldTrials& draws) const {
  require(static_cast<int64_t>(force_.size()) == space_dim, "force",
          fmt::format("expected {} numbers (the effector's space_dim), got {}", space_dim, force_.size()));
  AffineForce form;
  form.bias = torch::tensor(force_, torch::kFloat64).unsqueeze(0).expand({draws.active.size(0), space_dim});
  return form;
}

ForcePulse::ForcePulse(ForcePulseOptions pulse, ForceFieldOptions options)
    : ForceField(std::move(options)), pulse_(std::move(pulse)) {
  require(pulse_.magnitude() >= 0.0, "magnitude", fmt::format("must not be negative, got {}", pulse_.magnitude()));
  require(pulse_.duration() > 0.0, "duration", fmt::format("must be positive, got {}", pulse_.duration()));
  require(pulse_.onset_earliest() >= 0.0 && pulse_.onset_latest() >= pulse_.onset_earliest(), "onset_latest",
          fmt::format("the onset window [{}, {}] must be ordered and not negative", pulse_.onset_earliest(),
                      pulse_.onset_latest()));
  require(!pulse_.directions().empty(), "directions", "expected at least one direction");
  for (const auto& direction : pulse_.directions()) {
    double norm = 0.0;
    for (double component : direction) norm += component * component;
    require(norm > 0.0, "directions", "a direction must not be the zero vector");
  }
}

FieldTrials ForcePulse::sample(int64_t batch_size, int64_t space_dim, double timestep, torch::Generator& generator) const {
  FieldTrials draws = ForceField::sample(batch_size, space_dim, timestep, generator);
  const int64_t earliest = steps_for(pulse_.onset_earliest(), timestep);
  const int64_t latest = steps_for(pulse_.onset_latest(), timestep);
  draws.onset_step = torch::randint(earliest, latest + 1, {batch_size}, generator, torch::kInt64);
  const auto& directions = pulse_.directions();
  auto table = torch::empty({static_cast<int64_t>(directions.size()), space_dim}, torch::kFloat64);
  for (size_t i = 0; i < directions.size(); ++i) {
    require(static_cast<int64_t>(directions[i].size()) == space_dim, fmt::format("directions[{}]", i),
            fmt::format("expected {} numbers (the effector's space_dim), got {}", space_dim, directions[i].size()));
    auto direction = torch::tensor(directions[i], torch::kFloat64);
    table[i] = direction / direction.norm();
  }
  auto choice = torch::randint(0, static_cast<int64_t>(directions.size()), {batch_size}, generator, torch::kInt64);
  draws.direction = table.index_select(0, choice);
  return draws;
}

torch::Tensor ForcePulse::on_steps(int64_t first, int64_t count, double timestep, const Trials& trials,
                                   const FieldTrials& draws) const {
  const int64_t duration = std::max<int64_t>(1, steps_for(pulse_.duration(), timestep));
  auto onset = draws.onset_step.unsqueeze(0);
  auto steps = torch::arange(first, first + count, onset.options()).unsqueeze(1);
  auto pulse_on = onset.le(steps).logical_and((onset + duration).gt(steps));
  return ForceField::on_steps(first, count, timestep, trials, draws) * pulse_on.to(torch::kFloat64);
}

std::optional<AffineForce> ForcePulse::affine_force(int64_t space_dim, const Trials&, const FieldTrials& draws) const {
  require(draws.direction.size(1) == space_dim, "directions",
          fmt::format("expected {} numbers (the effector's space_dim), got {}", space_dim, draws.direction.size(1)));
  AffineForce form;
  form.bias = pulse_.magnitude() * draws.direction.to(torch::kFloat64);
  return form;
}

ForceChannel::ForceChannel(double stiffness, double damping, ForceFieldOptions options)
    : ForceField(std::move(options)), stiffness_(stiffness), damping_(damping) {
  require(stiffness >= 0.0, "stiffness", fmt::format("must not be negative, got {}", stiffness));
  require(damping >= 0.0, "damping", fmt::format("must not be negative, got {}", damping));
}

std::optional<AffineForce> ForceChannel::affine_force(int64_t space_dim, const Trials& trials,
                                                      const FieldTrials&) const {
  // The wall acts on the part of the hand's offset from the start (and of its velocity) perpendicular to the
  // start-target line: the projection I - u u' with u the line's unit direction. A trial whose target is its
  // start has no channel direction (no force).
  auto start = trials.start.to(torch::kFloat64);
  auto line = trials.target.to(torch::kFloat64) - start;
  auto length = line.norm(2, 1, true);
  auto has_line = (length > 1e-12).to(torch::kFloat64).unsqueeze(2);
  auto unit = line / length.clamp_min(1e-12);
  auto perpendicular = torch::eye(space_dim, torch::kFloat64).unsqueeze(0) - unit.unsqueeze(2) * unit.unsqueeze(1);
  AffineForce form;  // F = -(K e + B e'), e = (I - u u')(p - start)
  form.position_gain = -stiffness_ * perpendicular * has_line;
  form.anchor = start;
  form.velocity_gain = -damping_ * perpendicular * has_line;
  return form;
}

}  // namespace motornet
