// motornet-bench: the reference workloads of shared/REFERENCE_FIGURES.md, timed on this machine.
//   W1  tutorial: ReluPointMass24, RandomTargetReach 1 s (100 steps), GRU 32, batch 32, L1 loss, Adam 1e-3, clip 1
//   W2  arm26: RigidTendonArm26 + RigidTendonHillMuscle, same task, GRU 64, batch 64
//   W3  simulate only: RigidTendonArm26, batch 1024, 100 steps, constant 0.05 excitation, no network, no gradient
// For each: milliseconds per batch (median, min, max over --batches after --warmup), throughput, peak memory.
// usage: motornet-bench [--workload W1|W2|W3|all] [--threads N] [--batches N] [--warmup N] [--json]
//        [--kernels fused|op-by-op] [--replicates K] [--profile TRACE.json] [--tensor-memory thread-cache|malloc]
//        motornet-bench --config EXPERIMENT.yaml [--set key.path=value ...] [--replicates K] [...]
// --config times the training batches of any experiment file as motornet-train would run them (its effector,
// task, fields, delays, noise, policy, losses, optimizer and batch size; training.replicates or --replicates K),
// in memory: no validation, checkpoints or files. A lab can time its own experiment before a long run.
// --profile records every LibTorch op and autograd node of the run (LibTorch's legacy profiler) as a Chrome
// trace (chrome://tracing, or aggregate it by name): what the remaining per-op overhead is spent on.
// It records the calling thread only: replicates training in groups side by side (more than one thread) show
// the first group's work; `--threads 1` records them all.
// --replicates K trains K replicate networks at once in W1/W2 (a batch is then one step of all K).
// --tensor-memory malloc times LibTorch's own CPU allocator instead of the apps' per-thread tensor cache.

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <dlfcn.h>
#include <sys/resource.h>

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>

#include "motornet/motornet.h"
#include "motornet/core/threads.h"
#include "motornet/core/tensor_memory.h"
#include "motornet/train/experiment.h"

using namespace motornet;
using Clock = std::chrono::steady_clock;

namespace {

struct Timing {
  std::vector<double> ms;  // per batch (or per 100-step rollout for W3)
  std::vector<int64_t> group_sizes{1};  // replicates per group side by side at the end
  double median() const {
    auto sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    const size_t n = sorted.size();
    return n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  }
  double min() const { return *std::min_element(ms.begin(), ms.end()); }
  double max() const { return *std::max_element(ms.begin(), ms.end()); }
};

double peak_memory_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
}

// The malloc this process really runs with (linked in, or preloaded): it moves W1 by ~15%.
std::string allocator_in_use() {
  if (dlsym(RTLD_DEFAULT, "tc_malloc")) return "tcmalloc";
  if (dlsym(RTLD_DEFAULT, "mallctl")) return "jemalloc";
  return "system";
}

// Runs the trainer and times each batch after the first `warmup` ones.
Timing timed_batches(Trainer& trainer, int64_t warmup) {
  Timing timing;
  auto last = Clock::now();
  trainer.on_batch = [&](const BatchMetrics& metrics) {
    if (metrics.replicate != 0) return;  // once per batch
    auto now = Clock::now();
    if (metrics.batch > warmup) timing.ms.push_back(std::chrono::duration<double, std::milli>(now - last).count());
    last = now;
  };
  trainer.train();
  timing.group_sizes = trainer.replicate_group_sizes();
  return timing;
}

Timing train_workload(Effector effector, int64_t hidden, int64_t batch, int64_t warmup, int64_t batches,
                      int64_t replicates, KernelChoice kernels) {
  torch::manual_seed(0);
  Environment environment(effector, std::make_shared<RandomTargetReach>(), EnvironmentOptions().max_ep_duration(1.0));
  std::vector<Policy> policies;
  for (int64_t k = 0; k < replicates; ++k) {
    torch::manual_seed(k);
    policies.push_back(std::make_shared<RecurrentPolicyImpl>(
        RecurrentPolicyOptions(environment->observation_size(), effector->n_muscles()).hidden_size(hidden).kernels(kernels)));
  }
  CompositeLoss losses({WeightedLoss{"position_l1", 1.0, make_loss("position_l1")}});
  Trainer trainer(environment, policies, losses, OptimizerOptions().lr(1e-3),
                  TrainingOptions()
                      .batch_size(batch)
                      .n_batches(warmup + batches)
                      .gradient_clip(1.0)
                      .validation_every(0)
                      .quiet(true)
                      .make_environment([effector, environment] {
                        return Environment(effector, environment->task(), environment->options());
                      }));
  return timed_batches(trainer, warmup);
}

// The training batches of an experiment file (the first phase's settings when it has phases).
Timing config_workload(const std::string& file, const std::vector<std::string>& overrides, int64_t replicates,
                       int64_t warmup, int64_t batches, int64_t& rows, int64_t& steps, int64_t& trained_replicates) {
  YAML::Node config = YAML::Clone(ConfigNode::load_file(file).yaml());
  for (const auto& assignment : overrides) apply_override(config, assignment);
  if (replicates > 1) apply_override(config, fmt::format("training.replicates={}", replicates), "--replicates");
  auto experiment = experiment_from_config(ConfigNode(config, ""));
  auto training = experiment.training;
  training.n_batches(warmup + batches).validation_every(0).checkpoint_every(0).snapshot_every(0).quiet(true);
  rows = training.batch_size();
  steps = experiment.environment->n_steps();
  trained_replicates = static_cast<int64_t>(experiment.replicates.size());
  Trainer trainer(experiment.environment, experiment.replicates, experiment.losses, experiment.optimizer, training);
  return timed_batches(trainer, warmup);
}

Timing simulate_workload(const EffectorOptions& options, int64_t warmup, int64_t batches) {
  auto effector = make_rigid_tendon_arm26(make_muscle("RigidTendonHillMuscle"), options);
  torch::NoGradGuard no_grad;
  auto generator = at::detail::createCPUGenerator(0);
  auto action = torch::full({1024, effector->n_muscles()}, 0.05);
  Timing timing;
  for (int64_t b = 0; b < warmup + batches; ++b) {
    auto start = Clock::now();
    auto state = effector->reset(1024, std::nullopt, generator);
    for (int t = 0; t < 100; ++t) state = effector->step(state, action);
    if (b >= warmup) timing.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return timing;
}

int profile_error(const std::string& path, const std::string& reason) {
  std::cerr << "motornet-bench: error: --profile: cannot write the trace to '" << path << "': " << reason << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time MotorNet's reference workloads"};
  std::string workload = "all", kernels = "fused";
  int threads = 1;
  int64_t batches = 20, warmup = 3, replicates = 1;
  bool json = false;
  app.add_option("--workload", workload, "W1, W2, W3 or all")->check(CLI::IsMember({"W1", "W2", "W3", "all"}));
  app.add_option("--threads", threads, "LibTorch intra-op threads")->check(CLI::Range(1, 256));
  app.add_option("--batches", batches, "timed batches (at least 20 for the figures in BENCHMARKS.md)")->check(CLI::Range(1, 100000));
  app.add_option("--warmup", warmup, "untimed batches first")->check(CLI::Range(0, 100000));
  auto* kernels_option = app.add_option("--kernels", kernels, "fused (default) or op-by-op effector and policy steps")
                             ->check(CLI::IsMember({"fused", "op-by-op"}));
  app.add_flag("--json", json, "print one JSON object per workload");
  std::string profile;
  app.add_option("--profile", profile, "write a Chrome trace of every op to this file (slows the run)");
  app.add_option("--replicates", replicates, "replicate networks trained at once in W1 and W2 (or --config)")->check(CLI::Range(1, 1024));
  std::string config_file;
  std::vector<std::string> overrides;
  auto* config_option = app.add_option("--config", config_file, "time this experiment file's training batches instead");
  app.add_option("--set", overrides, "with --config: override a configuration value, key.path=value (repeatable)")
      ->needs(config_option);
  config_option->excludes(kernels_option);  // an experiment says its kernels: --set effector.kernels=op-by-op
  std::string tensor_memory = "thread-cache";
  app.add_option("--tensor-memory", tensor_memory,
                 "thread-cache (as the apps: core/tensor_memory.h) or malloc (LibTorch's own CPU allocator)")
      ->check(CLI::IsMember({"thread-cache", "malloc"}));
  CLI11_PARSE(app, argc, argv);
  motornet::set_num_threads(threads);
  if (tensor_memory == "thread-cache") {
    try {  // as the apps: MOTORNET_TENSOR_CACHE_MB limits it
      motornet::use_thread_cached_tensor_memory(motornet::tensor_memory_options_from_environment());
    } catch (const InputError& e) {
      std::cerr << "motornet-bench: error: " << e.what() << "\n";
      return 2;
    }
  }
  const KernelChoice kernel_choice = parse_kernel_choice(kernels, "--kernels");  // CLI11 checked the name
  const auto options = EffectorOptions().kernels(kernel_choice);

  // The trace goes to a stream opened here, before any work, so that a path that cannot be written is refused at
  // once (exit 2, naming it) instead of failing when the trace is written at the end.
  std::ofstream trace;
  std::optional<torch::autograd::profiler::RecordProfile> recording;
  if (!profile.empty()) {
    trace.open(profile);
    if (!trace) return profile_error(profile, std::strerror(errno));  // open(2) sets errno
    recording.emplace(trace);
  }
  std::vector<std::string> selected = workload == "all" ? std::vector<std::string>{"W1", "W2", "W3"}
                                                        : std::vector<std::string>{workload};
  if (!config_file.empty()) selected = {config_file};
  for (const auto& name : selected) {
    Timing timing;
    int64_t rows = 0, steps = 100;  // steps per episode
    if (!config_file.empty()) {
      try {
        int64_t trained_replicates = 1;  // --replicates, or the file's training.replicates
        timing = config_workload(config_file, overrides, replicates, warmup, batches, rows, steps, trained_replicates);
        replicates = trained_replicates;
      } catch (const InputError& e) {  // a bad experiment file or --set: exit 2 naming the key, as the apps do
        std::cerr << "motornet-bench: error: " << e.what() << "\n";
        return 2;
      }
    } else if (name == "W1") {
      timing = train_workload(make_relu_point_mass24(nullptr, options), 32, 32, warmup, batches, replicates, kernel_choice);
      rows = 32;
    } else if (name == "W2") {
      timing = train_workload(make_rigid_tendon_arm26(make_muscle("RigidTendonHillMuscle"), options), 64, 64, warmup, batches,
                              replicates, kernel_choice);
      rows = 64;
    } else {
      timing = simulate_workload(options, warmup, batches);
      rows = 1024;
    }
    const double steps_per_second = static_cast<double>(steps * rows) / (timing.median() / 1000.0);
    if (json) {
      std::cout << nlohmann::json{{"workload", name},          {"ms_per_batch_median", timing.median()},
                                  {"ms_per_batch_min", timing.min()}, {"ms_per_batch_max", timing.max()},
                                  {"batches", timing.ms.size()}, {"threads", threads},
                                  {"kernels", kernels},        {"steps_x_batch_per_second", steps_per_second},
                                  {"replicates", name == "W3" ? 1 : replicates},
                                  {"ms_per_network_batch", timing.median() / (name == "W3" ? 1 : replicates)},
                                  {"peak_memory_mb", peak_memory_mb()}, {"allocator", allocator_in_use()},
                                  {"tensor_memory", tensor_memory}, {"replicate_group_sizes", timing.group_sizes}}
                       .dump()
                << "\n";
    } else {
      const std::string per_replicate =
          replicates > 1 && name != "W3"
              ? fmt::format(" [{} replicates: {:.1f} ms per replicate-batch]", replicates, timing.median() / replicates)
              : "";
      std::cout << fmt::format("{}: {:.1f} ms per batch (median of {}; min {:.1f}, max {:.1f}){}, {:.3g} steps x batch/s, "
                               "peak memory {:.0f} MB, {} thread(s), {} kernels, {} malloc, tensors: {}\n",
                               name, timing.median(), timing.ms.size(), timing.min(), timing.max(), per_replicate,
                               steps_per_second * (name == "W3" ? 1 : replicates), peak_memory_mb(), threads, kernels, allocator_in_use(),
                               tensor_memory);
    }
  }
  if (recording) {
    recording.reset();  // writes the trace
    trace.close();
    if (!trace) return profile_error(profile, "writing it failed (is the disk full?)");
  }
  return 0;
}
