#include "motornet/train/trainer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "motornet/core/error.h"
#include "motornet/core/parse_integer.h"
#include "motornet/io/atomic_file.h"
#include "motornet/control/policies/replicated_policy.h"
#include "motornet/control/rollout.h"

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

void check_training_options(const OptimizerOptions& o, const TrainingOptions& t) {
  require(o.type() == "adam" || o.type() == "adamw" || o.type() == "sgd", "optimizer.type",
          fmt::format("unknown optimizer '{}'; use adam, adamw or sgd", o.type()));
  require(std::isfinite(o.lr()) && o.lr() > 0.0, "optimizer.lr", fmt::format("must be positive, got {}", o.lr()));
  require(o.weight_decay() >= 0.0, "optimizer.weight_decay", "must not be negative");
  require(o.betas().size() == 2 && o.betas()[0] >= 0 && o.betas()[0] < 1 && o.betas()[1] >= 0 && o.betas()[1] < 1,
          "optimizer.betas", "expected two numbers in [0, 1)");
  require(o.eps() > 0.0, "optimizer.eps", "must be positive");
  require(o.momentum() >= 0.0, "optimizer.momentum", "must not be negative");
  require(o.schedule() == "constant" || o.schedule() == "step" || o.schedule() == "cosine", "optimizer.schedule",
          fmt::format("unknown schedule '{}'; use constant, step or cosine", o.schedule()));
  require(o.step_size() >= 1, "optimizer.step_size", "must be at least 1");
  require(o.gamma() > 0.0, "optimizer.gamma", "must be positive");
  require(o.min_lr() >= 0.0 && o.min_lr() <= o.lr(), "optimizer.min_lr", "must lie in [0, lr]");
  require(t.batch_size() >= 1, "training.batch_size", fmt::format("must be at least 1, got {}", t.batch_size()));
  require(t.n_batches() >= 0, "training.n_batches", fmt::format("must not be negative, got {}", t.n_batches()));
  require(std::isfinite(t.gradient_clip()) && t.gradient_clip() >= 0.0, "training.gradient_clip",
          "must be a non-negative number (0: no clipping)");
  require(t.validation_every() >= 0, "training.validation_every", "must not be negative (0: never)");
  require(t.validation_batch_size() >= 1, "training.validation_batch_size", "must be at least 1");
  require(t.checkpoint_every() >= 0, "training.checkpoint_every", "must not be negative (0: only at the end)");
  require(t.log_every() >= 1, "training.log_every", "must be at least 1");
}

namespace {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerOptions& o, std::vector<torch::Tensor> parameters) {
  if (o.type() == "sgd")
    return std::make_unique<torch::optim::SGD>(
        parameters, torch::optim::SGDOptions(o.lr()).momentum(o.momentum()).weight_decay(o.weight_decay()));
  auto betas = std::make_tuple(o.betas()[0], o.betas()[1]);
  if (o.type() == "adamw")
    return std::make_unique<torch::optim::AdamW>(
        parameters, torch::optim::AdamWOptions(o.lr()).betas(betas).eps(o.eps()).weight_decay(o.weight_decay()));
  return std::make_unique<torch::optim::Adam>(
      parameters, torch::optim::AdamOptions(o.lr()).betas(betas).eps(o.eps()).weight_decay(o.weight_decay()));
}

std::string format_duration(double seconds) {
  auto s = static_cast<int64_t>(std::max(0.0, seconds));
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60) : fmt::format("{:02}:{:02}", s / 60, s % 60);
}

}  // namespace

std::atomic<bool>* Trainer::global_stop_flag() {
  static std::atomic<bool> flag{false};
  return &flag;
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
      run_directory_(std::move(run_directory)),
      group_(training_.data_parallel()) {
  check_training_options(optimizer_options_, training_);
  require(!replicates.empty(), "policy", "a trainer needs a policy");
  const int64_t K = static_cast<int64_t>(replicates.size());
  training_.replicates(K);
  const Shard shard = group_ ? Shard{group_->rank(), group_->world_size()} : Shard{};
  std::vector<torch::Generator> environment_generators;
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
    if (!run_directory_.empty())
      replica.directory = K == 1 ? run_directory_ : (fs::path(run_directory_) / fmt::format("replicate_{:02}", k)).string();
    environment_generators.push_back(replica.environment_generator);
    replicas_.push_back(std::move(replica));
  }
  environment_->set_streams(RowStreams(environment_generators, shard));
  environment_->streams().local_rows(training_.batch_size());  // the global batch splits evenly across ranks
  stepper_ = K == 1 ? replicas_.front().policy : ReplicatedPolicy(replicates).ptr();
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

double Trainer::learning_rate(int64_t batch) const {
  const auto& o = optimizer_options_;
  if (o.schedule() == "step") return o.lr() * std::pow(o.gamma(), static_cast<double>(batch / o.step_size()));
  if (o.schedule() == "cosine") {
    const double progress = training_.n_batches() > 0 ? static_cast<double>(batch) / training_.n_batches() : 0.0;
    return o.min_lr() + 0.5 * (o.lr() - o.min_lr()) * (1.0 + std::cos(M_PI * std::min(progress, 1.0)));
  }
  return o.lr();
}

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
    values = replicate_losses(rollout(*environment_, *stepper_, validation_reset_));
  } catch (...) {
    stepper_->train();
    environment_->set_streams(training_streams);
    throw;
  }
  stepper_->train();
  environment_->set_streams(training_streams);
  return values;
}

std::vector<LossValues> Trainer::replicate_losses(const EpisodeRecord& episode) const {
  const int64_t K = n_replicates();
  if (K == 1) return {losses_.compute(episode)};
  const int64_t rows = episode.fingertip.size(0) / K;  // replicate k's trials are rows [k * rows, (k + 1) * rows)
  std::vector<LossValues> values;
  for (int64_t k = 0; k < K; ++k) values.push_back(losses_.compute(episode.rows(k * rows, rows)));
  return values;
}

void Trainer::average_over_ranks(std::vector<torch::Tensor>& values) {
  if (!group_) return;
  group_->all_reduce_sum(values, batch_ + 1);
  torch::NoGradGuard no_grad;
  for (auto& value : values) value.div_(static_cast<double>(group_->world_size()));
}

TrainingSummary Trainer::train() {
  TrainingSummary summary;
  auto start = std::chrono::steady_clock::now();
  const bool files = writes_files();
  const int64_t K = n_replicates();
  if (files && batch_ == 0)
    for (const auto& replica : replicas_) write_metrics_header(replica);
  auto* global_stop = global_stop_flag();
  const int64_t first_batch = batch_;
  const auto& terms = losses_.terms();
  // A stop requested here (or, data-parallel, on any rank: it travels with the all-reduce) ends the run
  // before the next batch.
  bool stopping = false;

  while (batch_ < training_.n_batches()) {
    if (!group_ && (stop_requested_ || global_stop->load())) stopping = true;
    if (stopping) {
      summary.outcome = TrainingOutcome::kInterrupted;
      summary.message = fmt::format("stopped after batch {}; checkpoint written", batch_);
      break;
    }
    auto batch_start = std::chrono::steady_clock::now();
    const double lr = learning_rate(batch_);
    for (auto& replica : replicas_)
      for (auto& group : replica.optimizer->param_groups()) group.options().set_lr(lr);
    stepper_->train();

    auto values = replicate_losses(rollout(*environment_, *stepper_, ResetOptions().batch_size(training_.batch_size())));
    torch::Tensor total = values.front().total;
    for (int64_t k = 1; k < K; ++k) total = total + values[k].total;
    for (auto& replica : replicas_) replica.optimizer->zero_grad();
    total.backward();

    // Every logged number and the stop flag travel with the gradients: one all-reduce per batch, and every
    // rank takes the same decisions.
    std::vector<double> scalars;
    for (const auto& v : values) {
      scalars.push_back(v.total.item<double>());
      for (const auto& term : terms) scalars.push_back(v.terms.at(term.name).item<double>());
    }
    if (group_) {
      std::vector<torch::Tensor> reduced;
      for (auto& parameter : stepper_->parameters()) {
        if (!parameter.grad().defined()) parameter.mutable_grad() = torch::zeros_like(parameter);
        reduced.push_back(parameter.grad());
      }
      scalars.push_back(stop_requested_ || global_stop->load() ? 1.0 : 0.0);
      reduced.push_back(torch::tensor(scalars, torch::kFloat64));
      average_over_ranks(reduced);
      auto averaged = reduced.back();
      for (size_t i = 0; i < scalars.size(); ++i) scalars[i] = averaged[i].item<double>();
      stopping = scalars.back() > 0.0;
      scalars.pop_back();
    }

    const size_t stride = 1 + terms.size();
    std::string failure;
    std::vector<double> grad_norms(K);
    for (int64_t k = 0; k < K && failure.empty(); ++k) {
      const std::string which = K == 1 ? "" : fmt::format(" of replicate {}", k);
      const double loss = scalars[k * stride];
      if (!std::isfinite(loss)) {
        failure = fmt::format("the loss{} became {} at batch {}", which, loss, batch_ + 1);
        break;
      }
      const double max_norm = training_.gradient_clip() > 0.0 ? training_.gradient_clip() : INFINITY;
      grad_norms[k] = torch::nn::utils::clip_grad_norm_(replicas_[k].policy->parameters(), max_norm);
      if (!std::isfinite(grad_norms[k]))
        failure = fmt::format("the gradient norm{} became {} at batch {}", which, grad_norms[k], batch_ + 1);
    }
    if (!failure.empty()) {
      summary.outcome = TrainingOutcome::kDiverged;
      summary.message = fmt::format("{}; training stopped, {}", failure, kept_checkpoint());
      break;
    }
    for (auto& replica : replicas_) replica.optimizer->step();
    ++batch_;
    elapsed_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - batch_start).count();

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
    }
    // Validation changes no training state, so rank 0 alone runs it (it alone logs).
    if (training_.validation_every() > 0 && batch_ % training_.validation_every() == 0 && (!group_ || group_->rank() == 0)) {
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
      if (files) append_metrics(replicas_[k], metrics[k]);
      if (on_batch) on_batch(metrics[k]);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report_progress(metrics, (batch_ - first_batch) / std::max(seconds, 1e-9));
    if (files && training_.checkpoint_every() > 0 && batch_ % training_.checkpoint_every() == 0) {
      save_checkpoint();
      export_policy();
    }
  }
  if (!training_.quiet() && isatty(fileno(stderr))) std::cerr << "\n";
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

void Trainer::report_progress(const std::vector<BatchMetrics>& metrics, double rate) const {
  if (training_.quiet() || (group_ && group_->rank() != 0)) return;
  // With replicates: the mean over replicates (each replicate's own numbers are in its metrics.csv).
  const auto& first = metrics.front();
  double loss = 0.0, grad_norm = 0.0, validation_sum = 0.0;
  for (const auto& m : metrics) {
    loss += m.loss / metrics.size();
    grad_norm += m.grad_norm / metrics.size();
    if (m.validation_loss) validation_sum += *m.validation_loss / metrics.size();
  }
  const std::string label = metrics.size() > 1 ? fmt::format("mean of {} replicates: loss", metrics.size()) : "loss";
  const double eta = rate > 0 ? (training_.n_batches() - first.batch) / rate : 0.0;
  std::string validation = first.validation_loss ? fmt::format(" | validation {:.4f}", validation_sum) : "";
  if (isatty(fileno(stderr))) {
    const int width = 30;
    const int filled = static_cast<int>(width * first.batch / std::max<int64_t>(1, training_.n_batches()));
    std::cerr << fmt::format("\r[{}{}] {}/{} | {} {:.4f}{} | {:.1f} batch/s | ETA {}   ", std::string(filled, '#'),
                             std::string(width - filled, '.'), first.batch, training_.n_batches(), label, loss,
                             validation, rate, format_duration(eta))
              << std::flush;
  } else if (first.batch % training_.log_every() == 0 || first.batch == training_.n_batches() || first.validation_loss) {
    std::cerr << fmt::format("batch {}/{} {} {:.5f}{} lr {:.3g} grad {:.3g} | {:.1f} batch/s, ETA {}\n", first.batch,
                             training_.n_batches(), label, loss, validation, first.lr, grad_norm, rate,
                             format_duration(eta));
  }
}

void Trainer::write_metrics_header(const Replica& replica) const {
  std::vector<std::string> columns = {"batch", "time_s", "loss"};
  for (const auto& term : losses_.terms()) columns.push_back("loss_" + term.name);
  columns.insert(columns.end(), {"validation_loss", "lr", "grad_norm"});
  write_text_atomically((fs::path(replica.directory) / "metrics.csv").string(),
                        fmt::format("{}\n", fmt::join(columns, ",")));
}

void Trainer::append_metrics(const Replica& replica, const BatchMetrics& m) const {
  std::ofstream out(fs::path(replica.directory) / "metrics.csv", std::ios::app);
  out << fmt::format("{},{:.3f},{:.8g}", m.batch, m.elapsed, m.loss);
  for (const auto& term : losses_.terms()) out << fmt::format(",{:.8g}", m.terms.at(term.name));
  out << "," << (m.validation_loss ? fmt::format("{:.8g}", *m.validation_loss) : std::string());
  out << fmt::format(",{:.8g},{:.8g}\n", m.lr, m.grad_norm);
}

namespace {
// The batch number in the first column of a metrics.csv row. A row without one means the file was damaged (by
// hand, or by another writer), so the resume stops and says where, rather than dropping or misreading rows.
int64_t metrics_row_batch(const std::string& path, int64_t line_number, const std::string& line) {
  const std::string cell = line.substr(0, line.find(','));
  const auto batch = parse_integer(cell);
  if (!batch)
    throw InputError("", fmt::format("{} line {}: the batch column is '{}', not a batch number; the file is damaged, "
                                     "so the run cannot resume from it (restore or remove that row)",
                                     path, line_number, cell));
  return *batch;
}
}  // namespace

void Trainer::truncate_metrics_after(const Replica& replica, int64_t batch) const {
  const auto path = fs::path(replica.directory) / "metrics.csv";
  std::ifstream in(path);
  if (!in) {
    write_metrics_header(replica);
    return;
  }
  std::stringstream kept;
  std::string line;
  bool header = true;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (!header && (line.empty() || metrics_row_batch(path.string(), number, line) > batch)) continue;
    kept << line << "\n";
    header = false;
  }
  in.close();
  write_text_atomically(path.string(), kept.str());
}

void Trainer::save_checkpoint() const {
  require(!run_directory_.empty(), "run_directory", "checkpoints need a run directory");
  if (!writes_files()) return;
  for (const auto& replica : replicas_) {
    torch::serialize::OutputArchive archive, policy_archive, optimizer_archive;
    replica.policy->save(policy_archive);
    replica.optimizer->save(optimizer_archive);
    archive.write("policy", policy_archive);
    archive.write("optimizer", optimizer_archive);
    archive.write("environment_generator", replica.environment_generator.get_state());
    archive.write("noise_generator", replica.noise_generator.get_state());
    archive.write("batch", torch::tensor(batch_, torch::kInt64));
    archive.write("elapsed", torch::tensor(elapsed_, torch::kFloat64));
    write_file_atomically((fs::path(replica.directory) / "checkpoint.pt").string(),
                          [&](std::ostream& out) { archive.save_to(out); });
  }
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
  for (size_t k = 0; k < replicas_.size(); ++k) {
    auto& replica = replicas_[k];
    const auto path = fs::path(replica.directory) / "checkpoint.pt";
    require(fs::exists(path), path.string(), "no checkpoint to resume from");
    int64_t batch = 0;
    double elapsed = 0.0;
    try {
      torch::serialize::InputArchive archive, policy_archive, optimizer_archive;
      archive.load_from(path.string());
      archive.read("policy", policy_archive);
      archive.read("optimizer", optimizer_archive);
      load_parameters_checked(*replica.policy, policy_archive, path.string());
      replica.optimizer->load(optimizer_archive);
      torch::Tensor environment_state, noise_state, batch_tensor, elapsed_tensor;
      archive.read("environment_generator", environment_state);
      archive.read("noise_generator", noise_state);
      archive.read("batch", batch_tensor);
      archive.read("elapsed", elapsed_tensor);
      replica.environment_generator.set_state(environment_state);
      replica.noise_generator.set_state(noise_state);
      batch = batch_tensor.item<int64_t>();
      elapsed = elapsed_tensor.item<double>();
    } catch (const c10::Error& error) {
      std::string what = error.what_without_backtrace();
      throw InputError(path.string(), "the checkpoint is corrupt or does not match this configuration (" +
                                          what.substr(0, what.find('\n')) + ")");
    }
    require_lazy(!resumed_batch || *resumed_batch == batch, path.c_str(), [&] {
      return fmt::format("this replicate's checkpoint is at batch {} but replicate 0's at batch {}", batch, *resumed_batch);
    });
    resumed_batch = batch;
    batch_ = batch;
    elapsed_ = elapsed;
  }
  last_checkpoint_batch_ = batch_;
  if (writes_files())
    for (const auto& replica : replicas_) truncate_metrics_after(replica, batch_);
}

void Trainer::export_policy() const {
  require(!run_directory_.empty(), "run_directory", "exporting needs a run directory");
  if (!writes_files()) return;
  for (const auto& replica : replicas_)
    write_via_temporary((fs::path(replica.directory) / "policy.pt").string(),
                        [&](const std::string& temporary) { replica.policy->export_torchscript(temporary); });
}

}  // namespace motornet
