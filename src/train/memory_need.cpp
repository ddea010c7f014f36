#include "motornet/train/memory_need.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "motornet/control/policies/mlp_policy.h"
#include "motornet/control/policies/recurrent_policy.h"
#include "motornet/core/error.h"
#include "motornet/train/trainer.h"

namespace motornet {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// A block of the configuration, or an empty one (every value its default) when absent.
ConfigNode block_or_empty(const ConfigNode& root, const std::string& key) {
  return root.has(key) ? root.at(key) : ConfigNode(YAML::Node(YAML::NodeType::Map), key);
}

// The policy's type, as policy_from_config reads it.
std::string policy_type(const ConfigNode& block) { return block.is_map() ? block.get_string("type", "GRU") : "GRU"; }

// The policy's size from its block: parameters, and the activations one step keeps per trial.
struct PolicySize {
  double parameters = 0.0;
  double activations_per_step = 0.0;
};

PolicySize policy_size(const ConfigNode& root, int64_t inputs, int64_t outputs) {
  const ConfigNode block = block_or_empty(root, "policy");
  PolicySize size;
  const std::string type = policy_type(block);
  if (type == "MLP") {
    std::vector<double> widths;
    if (auto node = block.child("hidden_sizes")) {
      widths = node->as_doubles();
    } else {
      const MlpPolicyOptions defaults(inputs, outputs);  // named: a range over a temporary's member dangles
      for (auto width : defaults.hidden_sizes()) widths.push_back(static_cast<double>(width));
    }
    double previous = static_cast<double>(inputs);
    for (double width : widths) {
      size.parameters += width * (previous + 1.0);
      size.activations_per_step += width;
      previous = width;
    }
    size.parameters += static_cast<double>(outputs) * (previous + 1.0);
    return size;
  }
  const RecurrentPolicyOptions defaults(inputs, outputs);
  const double units = static_cast<double>(block.is_map() ? block.get_int("hidden_size", defaults.hidden_size())
                                                          : defaults.hidden_size());
  const double layers = static_cast<double>(block.is_map() ? block.get_int("n_layers", defaults.n_layers())
                                                           : defaults.n_layers());
  const double gates = type == "LSTM" ? 4.0 : type == "RNN" ? 1.0 : 3.0;
  for (int64_t layer = 0; layer < static_cast<int64_t>(layers); ++layer) {
    const double layer_inputs = layer == 0 ? static_cast<double>(inputs) : units;
    size.parameters += gates * units * (layer_inputs + units + 2.0);
  }
  size.parameters += static_cast<double>(outputs) * (units + 1.0);
  // Per step and layer: the gates' activations and the new state (an LSTM's cell too).
  size.activations_per_step = layers * units * (gates + (type == "LSTM" ? 2.0 : 1.0));
  return size;
}

std::string gib(double bytes) { return fmt::format("{:.1f} GiB", bytes / kGiB); }

}  // namespace

MemoryNeed estimate_memory_need(const ConfigNode& root, const EnvironmentImpl& environment) {
  const auto& effector = *environment.effector();
  const double itemsize = static_cast<double>(effector.tensor_options().dtype().itemsize());
  const auto policy = policy_size(root, environment.observation_size(), effector.n_muscles());
  const ConfigNode training = block_or_empty(root, "training");
  const TrainingOptions defaults;
  const double batch = static_cast<double>(training.get_int("batch_size", defaults.batch_size()));
  const double validation_batch =
      static_cast<double>(training.get_int("validation_batch_size", defaults.validation_batch_size()));
  const double validates = training.get_int("validation_every", defaults.validation_every()) > 0 ? 1.0 : 0.0;
  const double replicates = static_cast<double>(std::max<int64_t>(1, training.get_int("replicates", defaults.replicates())));
  const double M = static_cast<double>(effector.n_muscles()), D = static_cast<double>(effector.dof()),
               S = static_cast<double>(effector.space_dim());
  const double K = static_cast<double>(effector.muscle()->n_states());
  // Per trial and step: the policy's activations, the observation, the action, the muscles' states and path
  // geometry, the joint and Cartesian states.
  const double per_step = policy.activations_per_step + static_cast<double>(environment.observation_size()) + M +
                          (K + 2.0 + D) * M + 2.0 * D + 4.0 * S;
  const double steps = static_cast<double>(environment.n_steps() + 1);
  MemoryNeed need;
  need.parameter_bytes = 4.0 * policy.parameters * itemsize * replicates;  // values, gradients, two moments
  need.training_bytes = batch * steps * per_step * itemsize * replicates;
  need.validation_bytes = validates * validation_batch * steps * per_step * itemsize * replicates;
  return need;
}

double available_memory_bytes() {
  double available = -1.0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    double kilobytes = 0.0;
    if (fields >> kilobytes) available = kilobytes * 1024.0;
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    const double address_space = static_cast<double>(limit.rlim_cur);
    available = available < 0.0 ? address_space : std::min(available, address_space);
  }
  return available;
}

void check_memory_need(const ConfigNode& root, const EnvironmentImpl& environment, double available_bytes) {
  if (available_bytes <= 0.0) return;
  const auto need = estimate_memory_need(root, environment);
  if (need.total() <= available_bytes) return;
  const int64_t replicates = block_or_empty(root, "training").get_int("replicates", TrainingOptions().replicates());
  // Name the part that needs the most; replicates multiply every part, so they are named when one network
  // alone would fit.
  std::string key;
  if (replicates > 1 && need.total() / static_cast<double>(replicates) <= available_bytes) {
    key = "training.replicates";
  } else if (need.parameter_bytes >= std::max(need.training_bytes, need.validation_bytes)) {
    key = policy_type(block_or_empty(root, "policy")) == "MLP" ? "policy.hidden_sizes" : "policy.hidden_size";
  } else if (need.training_bytes >= need.validation_bytes) {
    key = "training.batch_size";
  } else {
    key = "training.validation_batch_size";
  }
  throw InputError(key, fmt::format("this run needs at least {} of memory (the policy's parameters, gradients and "
                                    "optimizer state {}, a training batch of {} steps {}, a validation batch {}) but "
                                    "{} is available; make it smaller",
                                    gib(need.total()), gib(need.parameter_bytes), environment.n_steps(),
                                    gib(need.training_bytes), gib(need.validation_bytes), gib(available_bytes)));
}

}  // namespace motornet
