#include "motornet/train/phases.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "motornet/core/config.h"
#include "motornet/core/error.h"
#include "motornet/core/plain_name.h"
#include "motornet/train/experiment.h"
#include "train/configuration_settings.h"

namespace motornet {

namespace {

// What a phase may set: the task and everything about how the network learns it; not the body, the network,
// the seed or the number of replicates, which make it another network.
const std::vector<std::string> kPhaseSettableBlocks = {"environment", "losses", "optimizer", "training"};
const std::set<std::string> kFixedTrainingKeys = {"n_batches", "replicates"};
// Optimizer options that shape its state (moments, momentum); changing them needs a fresh optimizer.
const std::vector<std::string> kOptimizerStateKeys = {"type", "weight_decay", "betas", "eps", "momentum"};

void check_settable(const std::string& key_path, const YAML::Node& value, const std::string& where) {
  const std::string block = key_path.substr(0, key_path.find('.'));
  if (std::find(kPhaseSettableBlocks.begin(), kPhaseSettableBlocks.end(), block) == kPhaseSettableBlocks.end())
    throw InputError(where, fmt::format("a phase cannot change '{}': only {} may change between phases (the effector, "
                                        "the policy and the seed make another network)",
                                        block, fmt::join(kPhaseSettableBlocks, ", ")));
  if (block != "training") return;
  std::vector<std::string> training_keys;
  if (key_path == "training") {
    if (value.IsMap())
      for (const auto& entry : value) training_keys.push_back(entry.first.as<std::string>());
  } else {
    const std::string rest = key_path.substr(9);
    training_keys.push_back(rest.substr(0, rest.find('.')));
  }
  for (const auto& key : training_keys)
    if (kFixedTrainingKeys.count(key))
      throw InputError(where, fmt::format("a phase cannot set training.{}: {}", key,
                                          key == "n_batches" ? "give the phase's own n_batches"
                                                             : "every phase trains the same replicates"));
}


}  // namespace

std::vector<TrainingPhase> phases_from_config(const YAML::Node& config) {
  const ConfigNode root(config, "");
  std::optional<int64_t> total;
  if (auto training = root.child("training"); training && training->is_map())
    if (auto n = training->child("n_batches")) total = n->as_int();
  std::string top_init_from;
  if (auto node = root.child("init_from")) {
    top_init_from = node->as_string();
    if (top_init_from.empty()) node->fail("is empty; give a run directory, a snapshot or a policy.pt");
  }

  std::vector<TrainingPhase> phases;
  auto list = root.child("phases");
  if (!list) {
    TrainingPhase phase;
    phase.name = "training";
    phase.n_batches = total.value_or(TrainingOptions().n_batches());
    phase.set = YAML::Node(YAML::NodeType::Map);
    phase.init_from = top_init_from;
    return {phase};
  }
  if (!list->is_sequence() || list->size() == 0) list->fail("expected a non-empty list of phases");
  std::set<std::string> names;
  int64_t first_batch = 0;
  for (size_t i = 0; i < list->size(); ++i) {
    const ConfigNode entry = list->at(i);
    entry.require_map();
    entry.check_keys({"name", "n_batches", "set", "reset_optimizer", "init_from"});
    TrainingPhase phase;
    phase.name = entry.at("name").as_string();
    if (!is_plain_name(phase.name))
      entry.at("name").fail(fmt::format("'{}' is not a phase name: use letters, digits, '_', '-' or '.'", phase.name));
    if (!names.insert(phase.name).second) entry.at("name").fail(fmt::format("a phase named '{}' comes earlier", phase.name));
    phase.n_batches = entry.at("n_batches").as_int();
    if (phase.n_batches < 1) entry.at("n_batches").fail(fmt::format("must be at least 1, got {}", phase.n_batches));
    phase.set = read_settings(entry, check_settable);
    if (auto reset = entry.child("reset_optimizer")) phase.reset_optimizer = reset->as_bool();
    if (auto from = entry.child("init_from")) {
      phase.init_from = from->as_string();
      if (phase.init_from.empty()) from->fail("is empty; give a run directory, a snapshot or a policy.pt");
    }
    phase.first_batch = first_batch;
    first_batch += phase.n_batches;
    phases.push_back(phase);
  }
  if (!top_init_from.empty()) {
    if (!phases.front().init_from.empty())
      throw InputError("init_from", "is given both at the top level and in phases[0]; keep one");
    phases.front().init_from = top_init_from;
  }
  if (total) {  // the last phase lasts until the run's total
    auto& last = phases.back();
    if (*total <= last.first_batch)
      throw InputError("training.n_batches", fmt::format("is {}, but the phases before '{}' already take {} batches; "
                                                         "leave it out or give more",
                                                         *total, last.name, last.first_batch));
    last.n_batches = *total - last.first_batch;
  }

  // The optimizer's state carries over only between phases that keep its kind and shape.
  OptimizerOptions previous = optimizer_options_from_config(
      root.child("optimizer") ? root.at("optimizer") : ConfigNode(YAML::Node(YAML::NodeType::Map), "optimizer"));
  for (size_t i = 0; i < phases.size(); ++i) {
    const YAML::Node resolved = phase_configuration(config, phases[i]);
    const ConfigNode block(resolved["optimizer"] ? resolved["optimizer"] : YAML::Node(YAML::NodeType::Map),
                           "optimizer");
    const OptimizerOptions options = optimizer_options_from_config(block);
    const bool fresh = phases[i].reset_optimizer || !phases[i].init_from.empty();
    if (i > 0 && !fresh) {
      auto changed = [&](const std::string& key) {
        if (key == "type") return options.type() != previous.type();
        if (key == "weight_decay") return options.weight_decay() != previous.weight_decay();
        if (key == "betas") return options.betas() != previous.betas();
        if (key == "eps") return options.eps() != previous.eps();
        return options.momentum() != previous.momentum();
      };
      for (const auto& key : kOptimizerStateKeys)
        if (changed(key))
          throw InputError(fmt::format("phases[{}].set.optimizer.{}", i, key),
                           "changes the optimizer itself, whose state the phase would carry over; add reset_optimizer: "
                           "true to the phase (or change only lr and the schedule)");
    }
    previous = options;
  }
  return phases;
}

YAML::Node phase_configuration(const YAML::Node& config, const TrainingPhase& phase) {
  YAML::Node resolved = base_configuration_with(config, phase.set, fmt::format("phase '{}' set", phase.name));
  set_config_value(resolved, "training.n_batches", YAML::Node(phase.n_batches), "phase " + phase.name);
  return resolved;
}

size_t phase_at(const std::vector<TrainingPhase>& phases, int64_t batches_done) {
  for (size_t i = 0; i < phases.size(); ++i)
    if (batches_done <= phases[i].end_batch()) return i;
  return phases.size() - 1;
}

}  // namespace motornet
