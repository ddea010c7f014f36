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

NamedRegistry<LossFunction>& registry() {
  static NamedRegistry<LossFunction>* r = [] {
    auto* r = new NamedRegistry<LossFunction>();
    std::map<std::string, LossFunction> f;
    f["position_l1"] = [](const EpisodeRecord& e) { return (e.fingertip - e.goal).abs().sum(2).mean(); };
    f["position_l2"] = [](const EpisodeRecord& e) { return (e.fingertip - e.goal).pow(2).sum(2).mean(); };
    f["muscle_activation"] = [](const EpisodeRecord& e) { return e.activation.pow(2).sum(2).mean(); };
    f["muscle_activation_derivative"] = [](const EpisodeRecord& e) {
      return step_difference(e.activation).pow(2).sum(2).mean();
    };
    f["muscle_force"] = [](const EpisodeRecord& e) {
      return (e.force / e.max_isometric_force).pow(2).sum(2).mean();
    };
    f["muscle_force_derivative"] = [](const EpisodeRecord& e) {
      return step_difference(e.force / e.max_isometric_force).pow(2).sum(2).mean();
    };
    f["hidden_activity"] = [](const EpisodeRecord& e) {
      return e.hidden.size(2) == 0 ? torch::zeros({}, e.fingertip.options()) : e.hidden.pow(2).mean();
    };
    f["hidden_activity_derivative"] = [](const EpisodeRecord& e) {
      return e.hidden.size(2) == 0 ? torch::zeros({}, e.fingertip.options()) : step_difference(e.hidden).pow(2).mean();
    };
    f["hand_speed"] = [](const EpisodeRecord& e) { return e.hand_velocity.pow(2).sum(2).mean(); };
    f["hand_jerk"] = [](const EpisodeRecord& e) {
      return step_difference(step_difference(e.hand_velocity)).pow(2).sum(2).mean();
    };
    f["endpoint_speed"] = [](const EpisodeRecord& e) { return e.hand_velocity.select(1, -1).pow(2).sum(1).mean(); };
    for (auto& [name, function] : f) r->add(name, std::move(function));
    return r;
  }();
  return *r;
}

}  // namespace

void register_loss_type(const std::string& type, LossFunction function) { registry().add(type, std::move(function)); }

std::vector<std::string> loss_types() { return registry().names(); }

std::shared_ptr<Loss> make_loss(const std::string& type, const std::string& config_path) {
  return std::make_shared<FunctionLoss>(type, registry().find(type, config_path, "loss type"));
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
    entry.check_keys({"type", "weight", "name"});
    auto type = entry.at("type");
    WeightedLoss term;
    term.loss = make_loss(type.as_string(), type.path());
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
