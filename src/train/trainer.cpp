#include "motornet/train/trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "motornet/core/error.h"
#include "motornet/core/threads.h"
#include "motornet/io/atomic_file.h"
#include "motornet/control/policies/replicated_policy.h"
#include "motornet/control/rollout.h"
#include "motornet/train/progress_report.h"

namespace motornet {

namespace fs = std::filesystem;

namespace {

// A replicate's random streams: its trials and sensory noise from its seed, its hidden noise and its fixed
// validation batch from seeds mixed out of it (splitmix64), so that no two streams of neighbouring seeds
// (replicates seed, seed + 1, ...) coincide.
constexpr uint64_t kNoiseStream = 1;
constexpr uint64_t kValidationStream = 2;
uint64_t stream_seed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + stream * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

const OptionTable<TrainingOptions>& training_option_table() {
  static const auto table =
      OptionTable<TrainingOptions>()
          .add(MOTORNET_OPTION(batch_size), "trials per batch", checks::at_least(1))
          .add(MOTORNET_OPTION(n_batches), "batches to train (the total; a resume may raise it)", checks::at_least(0))
          .add(MOTORNET_OPTION(gradient_clip), "maximal gradient norm (0: no clipping)",
               OptionCheck<double>([](double v) -> std::optional<std::string> {
                 if (std::isfinite(v) && v >= 0.0) return std::nullopt;
                 return fmt::format("must be a non-negative number (0: no clipping), got {}", v);
               }))
          .add(MOTORNET_OPTION(validation_every), "batches between validations (0: never)",
               checks::at_least(0, " (0: never)"))
          .add(MOTORNET_OPTION(validation_batch_size), "trials of the fixed validation batch", checks::at_least(1))
          .add(MOTORNET_OPTION(checkpoint_every), "batches between checkpoints (0: only at the end)",
               checks::at_least(0, " (0: only at the end)"))
          .add(MOTORNET_OPTION(log_every), "batches between progress lines (when not on a terminal)",
               checks::at_least(1))
          .add(MOTORNET_OPTION(snapshot_every),
               "keep the policy every N batches and at each phase end in snapshots/ (0: no snapshots)",
               checks::at_least(0, " (0: no snapshots)"))
          .add(MOTORNET_OPTION(replicates), "independent networks trained at once (seeds seed .. seed + K - 1)",
               checks::at_least(1))
          .add(MOTORNET_OPTION(replicate_groups),
               "replicate groups trained side by side, one per thread (1: all stacked in one rollout; 0: one per "
               "thread)",
               checks::at_least(0, " (0: one per thread)"));
  return table;
}

void check_training_options(const OptimizerOptions& optimizer, const TrainingOptions& training) {
  check_optimizer_options(optimizer);
  training_option_table().check(training, "training");
}

Trainer::Trainer(Environment environment, Policy policy, CompositeLoss losses, OptimizerOptions optimizer,
                 TrainingOptions training, std::string run_directory)
    : Trainer(std::move(environment), std::vector<Policy>{std::move(policy)}, std::move(losses), std::move(optimizer),
              std::move(training), std::move(run_directory)) {}

Trainer::~Trainer() = default;

Trainer::Trainer(Environment environment, std::vector<Policy> replicates, CompositeLoss losses,
                 OptimizerOptions optimizer, TrainingOptions training, std::string run_directory)
    : environment_(std::move(environment)),
      losses_(std::move(losses)),
      optimizer_options_(std::move(optimizer)),
      training_(std::move(training)),
      schedule_(optimizer_options_, training_.n_batches()),
      run_directory_(std::move(run_directory)),
      group_(training_.data_parallel()),
      batch_(training_.phase().first_batch()) {
  check_training_options(optimizer_options_, training_);
  require(!replicates.empty(), "policy", "a trainer needs a policy");
  const int64_t K = static_cast<int64_t>(replicates.size());
  training_.replicates(K);
  shard_ = group_ ? Shard{group_->rank(), group_->world_size()} : Shard{};
  const Shard& shard = shard_;
  std::vector<torch::Generator> environment_generators;
  std::vector<std::string> term_names = training_.phase().logged_terms();
  if (term_names.empty())
    for (const auto& term : losses_.terms()) term_names.push_back(term.name);
  for (const auto& term : losses_.terms())
    require(std::find(term_names.begin(), term_names.end(), term.name) != term_names.end(), "training.phase",
            fmt::format("the logged loss columns lack this phase's term '{}'", term.name));
  for (int64_t k = 0; k < K; ++k) {
    require(replicates[k] != nullptr, "policy", fmt::format("replicate {} has no policy", k));
    require_policy_fits(*environment_, *replicates[k]);
    Replica replica;
    replica.seed = training_.seed() + static_cast<uint64_t>(k);
    replica.policy = replicates[k];
    replica.optimizer = make_optimizer(optimizer_options_, replica.policy->parameters());
    replica.environment_generator = at::detail::createCPUGenerator(replica.seed);
    replica.noise_generator = at::detail::createCPUGenerator(stream_seed(replica.seed, kNoiseStream));
    replica.policy->set_hidden_noise(replica.policy->hidden_noise(), RowStreams({replica.noise_generator}, shard));
    if (!run_directory_.empty()) {
      replica.directory = K == 1 ? run_directory_ : (fs::path(run_directory_) / fmt::format("replicate_{:02}", k)).string();
      replica.metrics.emplace(replica.directory, term_names);
    }
    environment_generators.push_back(replica.environment_generator);
    replicas_.push_back(std::move(replica));
  }
  environment_->set_streams(RowStreams(environment_generators, shard));
  environment_->streams().local_rows(training_.batch_size());  // the global batch splits evenly across ranks
  stepper_ = K == 1 ? replicas_.front().policy : ReplicatedPolicy(replicates).ptr();
  form_groups();
  validation_reset_ = ResetOptions().batch_size(training_.validation_batch_size()).deterministic(true);
  if (group_) {
    // Every rank starts from rank 0's weights (they agree anyway when built from one configuration).
    std::vector<torch::Tensor> parameters = stepper_->parameters();
    group_->broadcast(parameters);
  }
  if (writes_files()) {
    for (const auto& replica : replicas_) {
      std::error_code error;
      fs::create_directories(replica.directory, error);
      require(!error && fs::is_directory(replica.directory), replica.directory,
              "cannot create the run directory: " + (error ? error.message() : std::string("not a directory")));
      std::ofstream probe(fs::path(replica.directory) / ".write_test");
      require(probe.good(), replica.directory, "the run directory is not writable");
      probe.close();
      fs::remove(fs::path(replica.directory) / ".write_test", error);
    }
  }
}

bool Trainer::writes_files() const { return !run_directory_.empty() && (!group_ || group_->rank() == 0); }

LossValues Trainer::validate() { return validate_replicates().front(); }

std::vector<LossValues> Trainer::validate_replicates() {
  // A fixed batch: each replicate's validation stream starts from the same state at every validation (the whole
  // batch, whatever the process count), and the training streams are left exactly where they were.
  RowStreams training_streams = environment_->streams();
  std::vector<torch::Generator> validation;
  for (const auto& replica : replicas_)
    validation.push_back(at::detail::createCPUGenerator(stream_seed(replica.seed, kValidationStream)));
  environment_->set_streams(RowStreams(validation));
  std::vector<LossValues> values;
  try {
    torch::NoGradGuard no_grad;
    stepper_->eval();
    values = replicate_losses(rollout(*environment_, *stepper_, validation_reset_), n_replicates());
  } catch (...) {
    stepper_->train();
    environment_->set_streams(training_streams);
    throw;
  }
  stepper_->train();
  environment_->set_streams(training_streams);
  return values;
}

void Trainer::form_groups() {
  const int64_t K = n_replicates();
  int64_t G = training_.replicate_groups();
  const auto& make_environment = training_.make_environment();
  if (G == 0)
    G = make_environment && environment_->effector()->tensor_options().device().is_cpu()
            ? std::min<int64_t>(K, at::get_num_threads())
            : 1;
  if (G <= 1) return;
  require(G <= K, "training.replicate_groups", fmt::format("{} groups for {} replicates", G, K));
  require(static_cast<bool>(make_environment), "training.replicate_groups",
          "groups side by side need a way to build more environments (TrainingOptions::make_environment)");
  for (int64_t g = 0; g < G; ++g) {
    ReplicaGroup group;
    const int64_t first = g * K / G;  // as even as K allows
    const int64_t count = (g + 1) * K / G - first;
    group.environment = make_environment();
    require(group.environment && group.environment->observation_size() == environment_->observation_size() &&
                group.environment->n_steps() == environment_->n_steps(),
            "training.make_environment", "must build an environment like the trainer's");
    assign_replicates(group, first, count);
    groups_.push_back(std::move(group));
  }
  // With a thread for each group, the groups follow the threads' speed; with more groups than threads, a
  // thread runs several one after another and a group's time says nothing about its thread's.
  if (G <= at::get_num_threads()) balancer_.emplace(replicate_group_sizes());
}

void Trainer::assign_replicates(ReplicaGroup& group, int64_t first, int64_t count) {
  std::vector<torch::Generator> generators;
  std::vector<Policy> policies;
  for (int64_t k = first; k < first + count; ++k) {
    generators.push_back(replicas_[k].environment_generator);
    policies.push_back(replicas_[k].policy);
  }
  group.first = first;
  group.count = count;
  group.environment->set_streams(RowStreams(generators, shard_));
  group.stepper = count == 1 ? policies.front() : ReplicatedPolicy(policies).ptr();
}

std::vector<int64_t> Trainer::replicate_group_sizes() const {
  if (groups_.empty()) return {n_replicates()};
  std::vector<int64_t> sizes;
  for (const auto& group : groups_) sizes.push_back(group.count);
  return sizes;
}

void Trainer::resize_replicate_groups(const std::vector<int64_t>& sizes) {
  require(sizes.size() == static_cast<size_t>(n_replicate_groups()), "training.replicate_groups",
          fmt::format("{} group sizes for {} groups", sizes.size(), n_replicate_groups()));
  int64_t total = 0;
  for (auto size : sizes) {
    require(size >= 1, "training.replicate_groups", fmt::format("a group of {} replicates (at least 1)", size));
    total += size;
  }
  require(total == n_replicates(), "training.replicate_groups",
          fmt::format("group sizes add up to {}, not the {} replicates", total, n_replicates()));
  apply_group_sizes(sizes);
  if (balancer_) balancer_.emplace(sizes);
}

void Trainer::apply_group_sizes(const std::vector<int64_t>& sizes) {
  int64_t first = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (groups_[g].first != first || groups_[g].count != sizes[g]) assign_replicates(groups_[g], first, sizes[g]);
    first += sizes[g];
  }
}

void Trainer::for_each_replica(const std::function<void(int64_t)>& body) {
  if (groups_.empty()) {
    for (int64_t k = 0; k < n_replicates(); ++k) body(k);
    return;
  }
  run_side_by_side(static_cast<int64_t>(groups_.size()), [&](int64_t g) {
    for (int64_t k = groups_[g].first; k < groups_[g].first + groups_[g].count; ++k) body(k);
  });
}

std::vector<double> Trainer::rollout_and_backward() {
  const auto reset = ResetOptions().batch_size(training_.batch_size());
  for (auto& replica : replicas_) replica.optimizer->zero_grad();
  if (groups_.empty()) return backward(replicate_losses(rollout(*environment_, *stepper_, reset), n_replicates()));
  if (balancer_) apply_group_sizes(balancer_->counts());  // as the last batch's times decided (no change: no work)
  // Each group touches only its own environment, replicates and gradients, so the groups run side by side (a
  // group's own nodes then keep to its thread: LibTorch runs a parallel region inside another inline).
  std::vector<std::vector<double>> scalars(groups_.size());
  std::vector<double> seconds(groups_.size());
  run_side_by_side(static_cast<int64_t>(groups_.size()), [&](int64_t g) {
    const auto start = std::chrono::steady_clock::now();
    auto& group = groups_[g];
    group.stepper->train();
    scalars[g] = backward(replicate_losses(rollout(*group.environment, *group.stepper, reset), group.count));
    seconds[g] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  });
  // The groups take the sizes decided here at the next batch: this batch's clipping and optimizer steps use them.
  if (balancer_) balancer_->record(seconds);
  std::vector<double> all;
  for (const auto& part : scalars) all.insert(all.end(), part.begin(), part.end());
  return all;
}

std::vector<LossValues> Trainer::replicate_losses(const EpisodeRecord& episode, int64_t K) const {
  if (K == 1) return {losses_.compute(episode)};
  const int64_t rows = episode.fingertip.size(0) / K;  // replicate k's trials are rows [k * rows, (k + 1) * rows)
  std::vector<LossValues> values;
  for (int64_t k = 0; k < K; ++k) values.push_back(losses_.compute(episode.rows(k * rows, rows)));
  return values;
}

CheckpointParts Trainer::checkpoint_parts(const Replica& replica) const {
  return {replica.policy, replica.optimizer.get(), replica.environment_generator, replica.noise_generator};
}

std::vector<double> Trainer::backward(const std::vector<LossValues>& values) {
  torch::Tensor total = values.front().total;
  for (size_t k = 1; k < values.size(); ++k) total = total + values[k].total;
  total.backward();
  std::vector<double> scalars;  // per replicate: the loss, then each term
  for (const auto& v : values) {
    scalars.push_back(v.total.item<double>());
    for (const auto& term : losses_.terms()) scalars.push_back(v.terms.at(term.name).item<double>());
  }
  return scalars;
}

bool Trainer::share_across_ranks(std::vector<double>& scalars) {
  const bool stop_here = training_.stop().requested();
  if (!group_) return stop_here;
  // Every logged number and the stop request travel with the gradients: one all-reduce per batch, and every
  // rank takes the same decisions.
  std::vector<torch::Tensor> reduced;
  for (auto& parameter : stepper_->parameters()) {
    if (!parameter.grad().defined()) parameter.mutable_grad() = torch::zeros_like(parameter);
    reduced.push_back(parameter.grad());
  }
  scalars.push_back(stop_here ? 1.0 : 0.0);
  reduced.push_back(torch::tensor(scalars, torch::kFloat64));
  group_->all_reduce_sum(reduced, batch_ + 1);
  {
    torch::NoGradGuard no_grad;
    for (auto& value : reduced) value.div_(static_cast<double>(group_->world_size()));
  }
  const auto averaged = reduced.back();
  for (size_t i = 0; i < scalars.size(); ++i) scalars[i] = averaged[i].item<double>();
  const bool stop_anywhere = scalars.back() > 0.0;
  scalars.pop_back();
  return stop_anywhere;
}

std::string Trainer::clip_gradients(const std::vector<double>& scalars, std::vector<double>& grad_norms) {
  const int64_t K = n_replicates();
  const size_t stride = 1 + losses_.terms().size();
  const double max_norm = training_.gradient_clip() > 0.0 ? training_.gradient_clip() : INFINITY;
  grad_norms.assign(K, 0.0);
  for_each_replica([&](int64_t k) {
    grad_norms[k] = torch::nn::utils::clip_grad_norm_(replicas_[k].policy->parameters(), max_norm);
  });
  // In replicate order, whatever order they were clipped in (the run stops before any optimizer step).
  for (int64_t k = 0; k < K; ++k) {
    const std::string which = K == 1 ? "" : fmt::format(" of replicate {}", k);
    const double loss = scalars[k * stride];
    if (!std::isfinite(loss)) return fmt::format("the loss{} became {} at batch {}", which, loss, batch_ + 1);
    if (!std::isfinite(grad_norms[k]))
      return fmt::format("the gradient norm{} became {} at batch {}", which, grad_norms[k], batch_ + 1);
  }
  return "";
}

TrainingSummary Trainer::train() {
  TrainingSummary summary;
  auto start = std::chrono::steady_clock::now();
  const bool files = writes_files();
  const int64_t K = n_replicates();
  if (files && batch_ == 0)
    for (const auto& replica : replicas_) replica.metrics->start();
  const int64_t first_batch = batch_;
  const auto& terms = losses_.terms();
  const ProgressReport progress(end_batch(), training_.log_every(),
                                !training_.quiet() && (!group_ || group_->rank() == 0),
                                training_.phase().name() == PhasePlacement().name() ? "" : training_.phase().name());
  // A stop requested here (or, data-parallel, on any rank: it travels with the all-reduce) ends the run
  // before the next batch.
  bool stopping = false;

  const int64_t first_of_phase = training_.phase().first_batch();
  while (batch_ < end_batch()) {
    if (!group_ && training_.stop().requested()) stopping = true;
    if (stopping) {
      summary.outcome = TrainingOutcome::kInterrupted;
      summary.message = fmt::format("stopped after batch {}; checkpoint written", batch_);
      break;
    }
    auto batch_start = std::chrono::steady_clock::now();
    double lr = 0.0;
    for (auto& replica : replicas_) lr = schedule_.apply(*replica.optimizer, batch_ - first_of_phase);
    stepper_->train();

    auto scalars = rollout_and_backward();
    stopping = share_across_ranks(scalars);
    std::vector<double> grad_norms;
    const std::string failure = clip_gradients(scalars, grad_norms);
    if (!failure.empty()) {
      summary.outcome = TrainingOutcome::kDiverged;
      summary.message = fmt::format("{}; training stopped, {}", failure, kept_checkpoint());
      break;
    }
    for_each_replica([&](int64_t k) { replicas_[k].optimizer->step(); });
    ++batch_;
    elapsed_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - batch_start).count();

    const size_t stride = 1 + terms.size();
    std::vector<BatchMetrics> metrics(K);
    for (int64_t k = 0; k < K; ++k) {
      auto& m = metrics[k];
      m.replicate = k;
      m.batch = batch_;
      m.elapsed = elapsed_;
      m.loss = scalars[k * stride];
      for (size_t i = 0; i < terms.size(); ++i) m.terms[terms[i].name] = scalars[k * stride + 1 + i];
      m.lr = lr;
      m.grad_norm = grad_norms[k];
      m.phase = training_.phase().name();
    }
    // Validation changes no training state, so rank 0 alone runs it (it alone logs).
    // Also at the last batch of a phase that another follows, so that its final validation is in metrics.csv.
    const bool validation_due =
        training_.validation_every() > 0 &&
        (batch_ % training_.validation_every() == 0 || (training_.phase().followed() && batch_ == end_batch()));
    if (validation_due && (!group_ || group_->rank() == 0)) {
      auto validation = validate_replicates();
      summary.replicate_validation_loss.clear();
      for (int64_t k = 0; k < K; ++k) {
        metrics[k].validation_loss = validation[k].total.item<double>();
        summary.replicate_validation_loss.push_back(*metrics[k].validation_loss);
      }
    }
    for (int64_t k = 0; k < K; ++k) {
      auto& recent = replicas_[k].recent;
      recent.push_back(metrics[k].loss);
      if (recent.size() > 100) recent.erase(recent.begin());
      if (files) replicas_[k].metrics->append(metrics[k]);
      if (on_batch) on_batch(metrics[k]);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    progress.batch_done(metrics, (batch_ - first_batch) / std::max(seconds, 1e-9));
    if (files && training_.checkpoint_every() > 0 && batch_ % training_.checkpoint_every() == 0) {
      save_checkpoint();
      export_policy();
    }
    if (files && training_.snapshot_every() > 0 && (batch_ % training_.snapshot_every() == 0 || batch_ == end_batch()))
      save_snapshot();
  }
  progress.finish();
  if (files && summary.outcome != TrainingOutcome::kDiverged) {
    save_checkpoint();
    export_policy();
  }
  summary.batches_done = batch_;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double sum_recent = 0.0, sum_validation = 0.0;
  for (const auto& replica : replicas_) {
    double sum = 0.0;
    for (double value : replica.recent) sum += value;
    summary.replicate_recent_loss.push_back(replica.recent.empty() ? NAN : sum / replica.recent.size());
    sum_recent += summary.replicate_recent_loss.back();
  }
  summary.mean_recent_loss = sum_recent / K;
  for (double value : summary.replicate_validation_loss) sum_validation += value;
  if (!summary.replicate_validation_loss.empty()) summary.last_validation_loss = sum_validation / K;
  if (summary.outcome == TrainingOutcome::kCompleted)
    summary.message = fmt::format("trained {} batches", batch_);
  return summary;
}

void Trainer::save_checkpoint() const {
  require(!run_directory_.empty(), "run_directory", "checkpoints need a run directory");
  if (!writes_files()) return;
  for (const auto& replica : replicas_)
    write_checkpoint((fs::path(replica.directory) / "checkpoint.pt").string(), checkpoint_parts(replica),
                     {batch_, elapsed_, training_.configuration_sha256()});
  last_checkpoint_batch_ = batch_;
}

std::string Trainer::kept_checkpoint() const {
  if (run_directory_.empty()) return "nothing was saved (no run directory)";
  if (last_checkpoint_batch_ < 0) return "no checkpoint had been written yet";
  return fmt::format("the last good checkpoint (batch {}) was kept", last_checkpoint_batch_);
}

void Trainer::resume() {
  require(!run_directory_.empty(), "run_directory", "resuming needs a run directory");
  std::optional<int64_t> resumed_batch;
  for (auto& replica : replicas_) {
    const auto path = (fs::path(replica.directory) / "checkpoint.pt").string();
    const auto position = read_checkpoint(path, checkpoint_parts(replica));
    // A checkpoint of another configuration (another run's, or this run's before its config.yaml was edited)
    // would continue a different experiment under this one's name.
    const auto& expected = training_.configuration_sha256();
    require_lazy(expected.empty() || position.configuration_sha256.empty() || position.configuration_sha256 == expected,
                 path.c_str(), [&] {
                   return fmt::format("was written under another configuration (SHA-256 {}; this run's is {}): the "
                                      "checkpoint of another run, or config.yaml was edited; nothing was changed",
                                      position.configuration_sha256.substr(0, 12), expected.substr(0, 12));
                 });
    require_lazy(!resumed_batch || *resumed_batch == position.batch, path.c_str(), [&] {
      return fmt::format("this replicate's checkpoint is at batch {} but replicate 0's at batch {}", position.batch,
                         *resumed_batch);
    });
    resumed_batch = position.batch;
    batch_ = position.batch;
    elapsed_ = position.elapsed;
  }
  last_checkpoint_batch_ = batch_;
  require_lazy(batch_ >= training_.phase().first_batch(), run_directory_.c_str(), [&] {
    return fmt::format("the checkpoint is at batch {}, before phase '{}' (which starts after batch {})", batch_,
                       training_.phase().name(), training_.phase().first_batch());
  });
  if (writes_files())
    for (auto& replica : replicas_) {
      replica.metrics->truncate_after(batch_);
      // So that the phase's recent mean spans the sessions.
      replica.recent = replica.metrics->last_losses(100, training_.phase().first_batch());
    }
}

void Trainer::continue_from(Trainer& previous, bool keep_optimizer) {
  require(previous.n_replicates() == n_replicates(), "phases", "the next phase trains another number of replicates");
  for (int64_t k = 0; k < n_replicates(); ++k) {
    require(previous.replicas_[k].policy.get() == replicas_[k].policy.get(), "phases",
            "the next phase trains other networks than the previous one");
    if (keep_optimizer) replicas_[k].optimizer = std::move(previous.replicas_[k].optimizer);
  }
  require(previous.batch_ == training_.phase().first_batch(), "phases",
          fmt::format("phase '{}' starts after batch {} but the previous phase ended at batch {}",
                      training_.phase().name(), training_.phase().first_batch(), previous.batch_));
  batch_ = previous.batch_;
  elapsed_ = previous.elapsed_;
  last_checkpoint_batch_ = previous.last_checkpoint_batch_;
}

void Trainer::save_snapshot() const {
  if (!writes_files()) return;
  for (const auto& replica : replicas_) {
    const fs::path directory = fs::path(replica.directory) / "snapshots";
    std::error_code error;
    fs::create_directories(directory, error);
    require(!error, directory.string(), "cannot create the snapshot directory: " + error.message());
    write_via_temporary((directory / fmt::format("batch_{:06}.pt", batch_)).string(),
                        [&](const std::string& temporary) { replica.policy->export_torchscript(temporary); });
  }
}

void Trainer::export_policy() const {
  require(!run_directory_.empty(), "run_directory", "exporting needs a run directory");
  if (!writes_files()) return;
  for (const auto& replica : replicas_)
    write_via_temporary((fs::path(replica.directory) / "policy.pt").string(),
                        [&](const std::string& temporary) { replica.policy->export_torchscript(temporary); });
}

}  // namespace motornet
