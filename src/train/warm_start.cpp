#include "motornet/train/warm_start.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/script.h>

#include <filesystem>
#include <map>

#include "motornet/core/error.h"
#include "motornet/core/sha256.h"
#include "motornet/train/evaluation.h"
#include "motornet/train/training_run.h"

namespace motornet {

namespace fs = std::filesystem;

namespace {

// The configuration beside a policy file: its run's (policy.pt, checkpoint.pt) or, for a snapshot, the run
// above snapshots/. "" when there is none.
std::string configuration_beside(const fs::path& policy_file) {
  fs::path directory = policy_file.parent_path();
  if (directory.filename() == "snapshots") directory = directory.parent_path();
  try {
    return saved_configuration_file(directory.empty() ? "." : directory.string());
  } catch (const InputError&) {
    return "";
  }
}

std::string policy_file_of_run(const fs::path& run, int64_t replicate, int64_t n_replicates) {
  if (fs::exists(run / "policy.pt")) return (run / "policy.pt").string();
  int64_t source_replicates = 0;
  while (fs::exists(run / fmt::format("replicate_{:02}", source_replicates) / "policy.pt")) ++source_replicates;
  if (source_replicates == 0)
    throw InputError(run.string(), "holds no policy.pt (nor replicate_kk/policy.pt): is it a trained run directory?");
  if (source_replicates != n_replicates)
    throw InputError(run.string(), fmt::format("holds {} replicates but this run trains {}; start from one of them "
                                               "({}/replicate_00) or train as many replicates",
                                               source_replicates, n_replicates, run.string()));
  return (run / fmt::format("replicate_{:02}", replicate) / "policy.pt").string();
}

}  // namespace

PolicySource resolve_policy_source(const std::string& path, int64_t replicate, int64_t n_replicates) {
  const fs::path source(path);
  require(fs::exists(source), path, "does not exist: init_from needs a run directory, a snapshot or a policy.pt");
  PolicySource result;
  if (fs::is_directory(source)) {
    result.policy_file = policy_file_of_run(source, replicate, n_replicates);
    try {
      result.config_file = saved_configuration_file(path);
    } catch (const InputError&) {
      result.config_file = "";
    }
  } else {
    result.policy_file = path;
    result.config_file = configuration_beside(source);
  }
  if (!result.config_file.empty()) result.config_sha256 = sha256_of_file(result.config_file);
  return result;
}

void load_policy_file(PolicyImpl& policy, const std::string& file) {
  require(fs::is_regular_file(file), file, "is not a policy file");
  torch::jit::Module scripted;
  try {
    scripted = torch::jit::load(file);
  } catch (const c10::Error&) {
    throw InputError(file, "is neither a TorchScript policy (policy.pt, a snapshot) nor a trainer checkpoint");
  }
  // A trainer checkpoint is an archive too, holding the policy's parameters under "policy".
  if (scripted.hasattr("policy")) {
    load_policy_weights(policy, file);
    return;
  }
  std::map<std::string, torch::Tensor> weights;
  for (const auto& parameter : scripted.named_parameters(/*recurse=*/false)) weights[parameter.name] = parameter.value;
  torch::NoGradGuard no_grad;
  for (auto& parameter : policy.named_parameters()) {
    auto found = weights.find(parameter.key());
    require(found != weights.end(), file,
            fmt::format("has no parameter '{}': it is not a policy of this configuration's type ({})", parameter.key(),
                        policy.type_name()));
    require(found->second.sizes() == parameter.value().sizes(), file,
            fmt::format("parameter '{}' has shape [{}] there but this configuration expects [{}] (another observation "
                        "size, muscle count or architecture)",
                        parameter.key(), fmt::join(found->second.sizes(), ", "),
                        fmt::join(parameter.value().sizes(), ", ")));
    parameter.value().copy_(found->second);
  }
  require(weights.size() == policy.named_parameters().size(), file,
          fmt::format("has {} parameters but this configuration's {} policy has {}: another architecture",
                      weights.size(), policy.type_name(), policy.named_parameters().size()));
}

}  // namespace motornet
