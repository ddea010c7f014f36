#include "motornet/env/force_field.h"

#include <fmt/format.h>

#include "motornet/core/error.h"

namespace motornet {

namespace {
torch::Tensor hand_velocity(const EffectorState& state) {
  const int64_t S = state.cartesian.size(1) / 2;
  return state.cartesian.narrow(1, S, S);
}
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

FieldTrials ForceField::sample(int64_t batch_size, int64_t space_dim, double timestep, torch::Generator& generator) const {
  FieldTrials draws;
  auto uniform = torch::rand({batch_size}, generator, torch::kFloat64);
  draws.active = (uniform < options_.fraction()).to(torch::kFloat64);
  return draws;
}

torch::Tensor ForceField::force(int64_t step, double timestep, const EffectorState& state, const Trials& trials,
                                const FieldTrials& draws) const {
  // Windows are judged on the step index, so that start/end times that are whole multiples of the timestep
  // are exact.
  const bool in_window = step >= steps_for(options_.start_time(), timestep) &&
                         (std::isinf(options_.end_time()) || step < steps_for(options_.end_time(), timestep));
  auto options = state.cartesian.options();
  if (!in_window) return torch::zeros({state.cartesian.size(0), state.cartesian.size(1) / 2}, options);
  auto mask = draws.active.to(options);
  if (options_.off_before_go_cue()) mask = mask * (trials.go_cue_step <= step).to(options);
  return raw_force(step, timestep, state, trials, draws) * mask.unsqueeze(1);
}

CurlField::CurlField(double strength, ForceFieldOptions options) : ForceField(std::move(options)), strength_(strength) {}

torch::Tensor CurlField::raw_force(int64_t, double, const EffectorState& state, const Trials&, const FieldTrials&) const {
  auto velocity = hand_velocity(state);
  require(velocity.size(1) == 2, "type", "a curl field needs a planar effector (space_dim 2)");
  // F = k [[0, 1], [-1, 0]] v = k (v_y, -v_x)
  return strength_ * torch::stack({velocity.select(1, 1), -velocity.select(1, 0)}, 1);
}

ViscousField::ViscousField(double viscosity, ForceFieldOptions options)
    : ForceField(std::move(options)), viscosity_(viscosity) {}

torch::Tensor ViscousField::raw_force(int64_t, double, const EffectorState& state, const Trials&,
                                      const FieldTrials&) const {
  return -viscosity_ * hand_velocity(state);
}

ConstantLoad::ConstantLoad(std::vector<double> force, ForceFieldOptions options)
    : ForceField(std::move(options)), force_(std::move(force)) {}

torch::Tensor ConstantLoad::raw_force(int64_t, double, const EffectorState& state, const Trials&,
                                      const FieldTrials&) const {
  const int64_t S = state.cartesian.size(1) / 2;
  require(static_cast<int64_t>(force_.size()) == S, "force",
          fmt::format("expected {} numbers (the effector's space_dim), got {}", S, force_.size()));
  auto force = torch::tensor(force_, torch::kFloat64).to(state.cartesian.options());
  return force.unsqueeze(0).expand({state.cartesian.size(0), S});
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

torch::Tensor ForcePulse::raw_force(int64_t step, double timestep, const EffectorState& state, const Trials&,
                                    const FieldTrials& draws) const {
  const int64_t duration = std::max<int64_t>(1, steps_for(pulse_.duration(), timestep));
  auto on = (draws.onset_step <= step).logical_and(draws.onset_step + duration > step);
  auto options = state.cartesian.options();
  return pulse_.magnitude() * draws.direction.to(options) * on.to(options).unsqueeze(1);
}

ForceChannel::ForceChannel(double stiffness, double damping, ForceFieldOptions options)
    : ForceField(std::move(options)), stiffness_(stiffness), damping_(damping) {
  require(stiffness >= 0.0, "stiffness", fmt::format("must not be negative, got {}", stiffness));
  require(damping >= 0.0, "damping", fmt::format("must not be negative, got {}", damping));
}

torch::Tensor ForceChannel::raw_force(int64_t, double, const EffectorState& state, const Trials& trials,
                                      const FieldTrials&) const {
  const int64_t S = state.cartesian.size(1) / 2;
  auto options = state.cartesian.options();
  auto position = state.cartesian.narrow(1, 0, S);
  auto velocity = state.cartesian.narrow(1, S, S);
  auto start = trials.start.to(options);
  auto line = trials.target.to(options) - start;
  // Unit direction of the channel; a trial whose target is its start has no channel direction (no force).
  auto length = line.norm(2, 1, true);
  auto has_line = (length > 1e-12).to(options);
  auto unit = line / length.clamp_min(1e-12);
  auto offset = position - start;
  auto deviation = offset - (offset * unit).sum(1, true) * unit;
  auto deviation_rate = velocity - (velocity * unit).sum(1, true) * unit;
  return -(stiffness_ * deviation + damping_ * deviation_rate) * has_line;
}

}  // namespace motornet
