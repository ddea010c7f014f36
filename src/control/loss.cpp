#include "motornet/control/loss.h"

#include <fmt/format.h>

#include <mutex>

#include "motornet/core/error.h"
#include "motornet/core/plain_name.h"
#include "core/named_registry.h"

namespace motornet {

namespace {

torch::Tensor step_difference(const torch::Tensor& series) {  // [B, T+1, ...] -> [B, T, ...]
  return series.narrow(1, 1, series.size(1) - 1) - series.narrow(1, 0, series.size(1) - 1);
}

// A loss type is one of the two forms: per step (windowable) or whole episode.
struct LossDefinition {
  StepLossFunction per_step;
  LossFunction whole_episode;
};

StepValues from_step(const torch::Tensor& value, int64_t first_step) { return {value, first_step}; }

NamedRegistry<LossDefinition>& registry() {
  static NamedRegistry<LossDefinition>* r = [] {
    auto* r = new NamedRegistry<LossDefinition>();
    std::map<std::string, StepLossFunction> f;
    f["position_l1"] = [](const EpisodeRecord& e) { return from_step((e.fingertip - e.goal).abs().sum(2), 0); };
    f["position_l2"] = [](const EpisodeRecord& e) { return from_step((e.fingertip - e.goal).pow(2).sum(2), 0); };
    f["muscle_activation"] = [](const EpisodeRecord& e) { return from_step(e.activation.pow(2).sum(2), 0); };
    f["muscle_activation_derivative"] = [](const EpisodeRecord& e) {
      return from_step(step_difference(e.activation).pow(2).sum(2), 1);
    };
    f["muscle_force"] = [](const EpisodeRecord& e) {
      return from_step((e.force / e.max_isometric_force).pow(2).sum(2), 0);
    };
    f["muscle_force_derivative"] = [](const EpisodeRecord& e) {
      return from_step(step_difference(e.force / e.max_isometric_force).pow(2).sum(2), 1);
    };
    // A policy without hidden units (an MLP) has no hidden activity to penalise: 0 at every step.
    f["hidden_activity"] = [](const EpisodeRecord& e) {
      if (e.hidden.size(2) == 0) return from_step(torch::zeros(e.hidden.sizes().slice(0, 2), e.fingertip.options()), 0);
      return from_step(e.hidden.pow(2).mean(2), 0);
    };
    f["hidden_activity_derivative"] = [](const EpisodeRecord& e) {
      auto difference = step_difference(e.hidden);
      if (e.hidden.size(2) == 0) return from_step(torch::zeros(difference.sizes().slice(0, 2), e.fingertip.options()), 1);
      return from_step(difference.pow(2).mean(2), 1);
    };
    f["hand_speed"] = [](const EpisodeRecord& e) { return from_step(e.hand_velocity.pow(2).sum(2), 0); };
    f["hand_jerk"] = [](const EpisodeRecord& e) {
      return from_step(step_difference(step_difference(e.hand_velocity)).pow(2).sum(2), 2);
    };
    f["endpoint_speed"] = [](const EpisodeRecord& e) {
      return from_step(e.hand_velocity.narrow(1, -1, 1).pow(2).sum(2), e.hand_velocity.size(1) - 1);
    };
    for (auto& [name, function] : f) r->add(name, LossDefinition{std::move(function), nullptr});
    return r;
  }();
  return *r;
}

}  // namespace

void register_loss_type(const std::string& type, LossFunction function) {
  registry().add(type, LossDefinition{nullptr, std::move(function)});
}

void register_step_loss_type(const std::string& type, StepLossFunction function) {
  registry().add(type, LossDefinition{std::move(function), nullptr});
}

std::vector<std::string> loss_types() { return registry().names(); }

std::shared_ptr<Loss> make_loss(const std::string& type, const std::string& config_path, const LossWindow& window) {
  auto definition = registry().find(type, config_path, "loss type");
  if (definition.per_step) return std::make_shared<StepLoss>(type, std::move(definition.per_step), window);
  require(!window.bounded(), config_path,
          fmt::format("loss type '{}' is computed on the whole episode (register_loss_type) and cannot count {}; "
                      "register it per step (register_step_loss_type) to give it a window",
                      type, window.describe()));
  return std::make_shared<FunctionLoss>(type, std::move(definition.whole_episode));
}

torch::Tensor StepLoss::compute(const EpisodeRecord& episode) const {
  const auto steps = function_(episode);
  if (!window_.bounded()) return steps.value.mean();
  // The mean over the counted steps; the mask is a constant, so the gradient flows to counted steps only.
  const auto counted = window_.mask(episode, steps.first_step, steps.value.size(1), steps.value);
  return (steps.value * counted).sum() / counted.sum().clamp_min(1.0);
}

CompositeLoss::CompositeLoss(std::vector<WeightedLoss> terms) : terms_(std::move(terms)) {
  require(!terms_.empty(), "losses", "expected at least one loss term");
}

LossValues CompositeLoss::compute(const EpisodeRecord& episode) const {
  LossValues values;
  for (const auto& term : terms_) {
    auto value = term.loss->compute(episode);
    values.terms[term.name] = value;
    values.total = values.total.defined() ? values.total + term.weight * value : term.weight * value;
  }
  return values;
}

CompositeLoss losses_from_config(const ConfigNode& block) {
  if (!block.is_sequence() || block.size() == 0) block.fail("expected a non-empty list of loss terms");
  std::vector<WeightedLoss> terms;
  for (size_t i = 0; i < block.size(); ++i) {
    auto entry = block.at(i);
    entry.require_map();
    entry.check_keys({"type", "weight", "name", "window", "from", "until"});
    auto type = entry.at("type");
    WeightedLoss term;
    term.loss = make_loss(type.as_string(), type.path(), loss_window_from_config(entry));
    term.name = entry.get_string("name", type.as_string());
    // The name becomes metrics.csv's column loss_<name>: a comma, quote or newline would break the file.
    if (!is_plain_name(term.name))
      (entry.has("name") ? entry.at("name") : type)
          .fail(fmt::format("'{}' cannot name a loss column of metrics.csv: use letters, digits, '_', '-' or '.'",
                            term.name));
    term.weight = entry.get_double("weight", 1.0);
    for (const auto& other : terms)
      if (other.name == term.name)
        entry.fail(fmt::format("a loss term named '{}' already exists; give this one a different `name`", term.name));
    terms.push_back(std::move(term));
  }
  return CompositeLoss(std::move(terms));
}

}  // namespace motornet
