#include "motornet/body/muscle.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "motornet/body/equations/activation.h"
#include "motornet/core/config.h"
#include "motornet/core/error.h"
#include "core/replace_buffer.h"

namespace motornet {

std::vector<MuscleParameterSpec> activation_parameter_specs(double min_activation, double tau_activation,
                                                            double tau_deactivation) {
  struct Collect {
    std::vector<MuscleParameterSpec> specs;
    void given(double&, const MuscleParameterSpec& spec) { specs.push_back(spec); }
  } collect;
  equations::ActivationParameters<double> unused;
  equations::activation_fields(unused, collect, min_activation, tau_activation, tau_deactivation);
  return collect.specs;
}

MuscleImpl::MuscleImpl(MuscleParameters shared_parameters, std::string config_path)
    : shared_parameters_(std::move(shared_parameters)), config_path_(std::move(config_path)) {}

namespace {

std::string join_path(const std::string& base, const std::string& key) { return base.empty() ? key : base + "." + key; }

void check_range(const MuscleParameterSpec& spec, double value, const std::string& path) {
  using Range = MuscleParameterSpec::Range;
  require(std::isfinite(value), path, fmt::format("expected a finite number, got {}", value));
  switch (spec.range) {
    case Range::kPositive: require(value > 0, path, fmt::format("must be positive, got {}", value)); break;
    case Range::kNonNegative: require(value >= 0, path, fmt::format("must not be negative, got {}", value)); break;
    case Range::kActivation:
      require(value >= 0 && value < 1, path, fmt::format("must lie in [0, 1), got {}", value));
      break;
    case Range::kAny: break;
  }
}

}  // namespace

void MuscleImpl::build(const std::vector<MuscleEntry>& muscles, double ministep) {
  require(ministep > 0 && std::isfinite(ministep), "timestep", fmt::format("must be positive, got {}", ministep));
  const auto specs = parameter_specs();
  std::vector<std::string> known;
  for (const auto& spec : specs) known.push_back(spec.name);

  auto check_known = [&](const MuscleParameters& values, const std::string& path) {
    for (const auto& [name, value] : values) {
      if (std::find(known.begin(), known.end(), name) != known.end()) continue;
      std::string suggestion = closest_match(name, known);
      throw InputError(join_path(path, name),
                       fmt::format("unknown parameter of {}{}; known: {}", type_name(),
                                   suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)",
                                   fmt::join(known, ", ")));
    }
  };
  auto location = [](const MuscleEntry& muscle) {
    return muscle.config_path.empty() ? fmt::format("muscle '{}'", muscle.name) : muscle.config_path;
  };
  check_known(shared_parameters_, config_path_);
  for (const auto& muscle : muscles) check_known(muscle.parameters, location(muscle));

  const int64_t n = static_cast<int64_t>(muscles.size());
  std::map<std::string, std::vector<double>> values;
  for (const auto& spec : specs) {
    auto& per_muscle = values[spec.name];
    for (int64_t m = 0; m < n; ++m) {
      const MuscleEntry& muscle = muscles[m];
      const std::string where = location(muscle);
      std::string path;
      double value;
      if (auto own = muscle.parameters.find(spec.name); own != muscle.parameters.end()) {
        value = own->second;
        path = join_path(where, spec.name);
      } else if (auto shared = shared_parameters_.find(spec.name); shared != shared_parameters_.end()) {
        value = shared->second;
        path = join_path(config_path_, spec.name);
      } else if (spec.default_value) {
        value = *spec.default_value;
        path = join_path(where, spec.name);
      } else {
        throw InputError(where, fmt::format("muscle '{}' is missing parameter '{}' (required by {})", muscle.name,
                                            spec.name, type_name()));
      }
      check_range(spec, value, path);
      per_muscle.push_back(value);
    }
  }
  auto previous = std::move(values_);
  values_ = std::move(values);
  try {
    materialize();
  } catch (...) {
    values_ = std::move(previous);  // a rejected build leaves the model as it was
    materialize();
    throw;
  }
  n_muscles_ = n;
  ministep_ = ministep;
}

void MuscleImpl::materialize() {
  if (values_.empty()) return;  // not built yet
  // Parameters and derived constants are computed in float64, then cast once to the module's dtype.
  for (const auto& [name, per_muscle] : values_) set_buffer(name, torch::tensor(per_muscle, torch::kFloat64));
  activation_ = {parameter("min_activation"), parameter("tau_activation"), parameter("tau_deactivation")};
  on_build();
  torch::nn::Module::to(tensor_options().device(), tensor_options().dtype().toScalarType());
}

torch::Tensor MuscleImpl::set_buffer(const std::string& name, torch::Tensor value) {
  // `build` may run again (add_muscle): an existing buffer is replaced in place.
  return register_or_replace_buffer(*this, name, std::move(value));
}

torch::Tensor MuscleImpl::parameter(const std::string& name) const {
  const torch::Tensor* found = named_buffers(/*recurse=*/false).find(name);
  if (found == nullptr) throw InputError("", fmt::format("{} has no parameter '{}' (was it built?)", type_name(), name));
  return *found;
}

std::vector<std::string> MuscleImpl::parameter_names() const {
  std::vector<std::string> names;
  for (const auto& spec : parameter_specs()) names.push_back(spec.name);
  return names;
}

int64_t MuscleImpl::state_row(const std::string& name) const {
  const auto names = state_names();
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) throw InputError("", fmt::format("{} has no state '{}'", type_name(), name));
  return it - names.begin();
}

torch::Tensor MuscleImpl::activation_derivative(const torch::Tensor& excitation, const torch::Tensor& activation) const {
  return equations::activation_rate(activation_parameters(), excitation, activation);
}

torch::Tensor MuscleImpl::integrate_activation(double h, const torch::Tensor& derivative,
                                               const torch::Tensor& muscle_state) const {
  return equations::integrate_activation(activation_parameters(), h, muscle_state.select(1, 0),
                                         derivative.select(1, 0));
}

torch::Tensor MuscleImpl::initial_state(const torch::Tensor& geometry_state) const {
  // SPEC §5: integrate(h, 0, [a = a_min], geometry).
  const auto batch = geometry_state.size(0);
  auto state = torch::zeros({batch, n_states(), n_muscles_}, geometry_state.options());
  state.select(1, 0).copy_(activation_.min_activation.expand({batch, n_muscles_}));
  auto derivative = torch::zeros({batch, n_derivatives(), n_muscles_}, geometry_state.options());
  return integrate(ministep_, derivative, state, geometry_state);
}

}  // namespace motornet
