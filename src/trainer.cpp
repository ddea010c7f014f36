#include "motornet/trainer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "motornet/error.h"
#include "motornet/io/atomic_file.h"
#include "motornet/rollout.h"

namespace motornet {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kValidationSeedOffset = 0x5eed5eedULL;  // validation trials come from their own stream
constexpr uint64_t kNoiseSeedOffset = 1;

void check_options(const OptimizerOptions& o, const TrainingOptions& t) {
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
    : environment_(std::move(environment)),
      policy_(std::move(policy)),
      losses_(std::move(losses)),
      optimizer_options_(std::move(optimizer)),
      training_(std::move(training)),
      run_directory_(std::move(run_directory)),
      noise_generator_(at::detail::createCPUGenerator(training_.seed() + kNoiseSeedOffset)) {
  check_options(optimizer_options_, training_);
  require(policy_ != nullptr, "policy", "a trainer needs a policy");
  require_policy_fits(*environment_, *policy_);
  optimizer_ = make_optimizer(optimizer_options_, policy_->parameters());
  policy_->set_hidden_noise(policy_->hidden_noise(), noise_generator_);
  environment_->seed(training_.seed());
  validation_reset_ = ResetOptions().batch_size(training_.validation_batch_size()).deterministic(true);
  if (!run_directory_.empty()) {
    std::error_code error;
    fs::create_directories(run_directory_, error);
    require(!error && fs::is_directory(run_directory_), run_directory_,
            "cannot create the run directory: " + (error ? error.message() : std::string("not a directory")));
    std::ofstream probe(fs::path(run_directory_) / ".write_test");
    require(probe.good(), run_directory_, "the run directory is not writable");
    probe.close();
    fs::remove(fs::path(run_directory_) / ".write_test", error);
  }
}

double Trainer::learning_rate(int64_t batch) const {
  const auto& o = optimizer_options_;
  if (o.schedule() == "step") return o.lr() * std::pow(o.gamma(), static_cast<double>(batch / o.step_size()));
  if (o.schedule() == "cosine") {
    const double progress = training_.n_batches() > 0 ? static_cast<double>(batch) / training_.n_batches() : 0.0;
    return o.min_lr() + 0.5 * (o.lr() - o.min_lr()) * (1.0 + std::cos(M_PI * std::min(progress, 1.0)));
  }
  return o.lr();
}

LossValues Trainer::validate() {
  // A fixed batch: the validation stream's generator state is the same at every validation, and the training
  // stream is left exactly where it was.
  auto& generator = environment_->generator();
  auto training_state = generator.get_state();
  generator.set_state(at::detail::createCPUGenerator(training_.seed() + kValidationSeedOffset).get_state());
  torch::NoGradGuard no_grad;
  policy_->eval();
  auto values = losses_.compute(rollout(*environment_, *policy_, validation_reset_));
  policy_->train();
  generator.set_state(training_state);
  return values;
}

TrainingSummary Trainer::train() {
  TrainingSummary summary;
  auto start = std::chrono::steady_clock::now();
  const bool files = !run_directory_.empty();
  if (files && batch_ == 0) write_metrics_header();
  std::vector<double> recent;
  auto* global_stop = global_stop_flag();
  const int64_t first_batch = batch_;

  while (batch_ < training_.n_batches()) {
    if (stop_requested_ || global_stop->load()) {
      summary.outcome = TrainingOutcome::kInterrupted;
      summary.message = fmt::format("stopped after batch {}; checkpoint written", batch_);
      break;
    }
    auto batch_start = std::chrono::steady_clock::now();
    const double lr = learning_rate(batch_);
    for (auto& group : optimizer_->param_groups()) group.options().set_lr(lr);
    policy_->train();

    auto episode = rollout(*environment_, *policy_, ResetOptions().batch_size(training_.batch_size()));
    auto values = losses_.compute(episode);
    const double loss = values.total.item<double>();
    if (!std::isfinite(loss)) {
      summary.outcome = TrainingOutcome::kDiverged;
      summary.message = fmt::format("the loss became {} at batch {}; training stopped, {}", loss, batch_ + 1,
                                    kept_checkpoint());
      break;
    }
    optimizer_->zero_grad();
    values.total.backward();
    const double max_norm = training_.gradient_clip() > 0.0 ? training_.gradient_clip() : INFINITY;
    const double grad_norm = torch::nn::utils::clip_grad_norm_(policy_->parameters(), max_norm);
    if (!std::isfinite(grad_norm)) {
      summary.outcome = TrainingOutcome::kDiverged;
      summary.message = fmt::format("the gradient norm became {} at batch {}; training stopped, {}", grad_norm,
                                    batch_ + 1, kept_checkpoint());
      break;
    }
    optimizer_->step();
    ++batch_;
    elapsed_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - batch_start).count();

    BatchMetrics metrics;
    metrics.batch = batch_;
    metrics.elapsed = elapsed_;
    metrics.loss = loss;
    for (const auto& [name, value] : values.terms) metrics.terms[name] = value.item<double>();
    metrics.lr = lr;
    metrics.grad_norm = grad_norm;
    if (training_.validation_every() > 0 && batch_ % training_.validation_every() == 0) {
      metrics.validation_loss = validate().total.item<double>();
      summary.last_validation_loss = metrics.validation_loss;
    }
    recent.push_back(loss);
    if (recent.size() > 100) recent.erase(recent.begin());
    if (files) append_metrics(metrics);
    if (on_batch) on_batch(metrics);
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
  double sum = 0.0;
  for (double value : recent) sum += value;
  summary.mean_recent_loss = recent.empty() ? NAN : sum / recent.size();
  if (summary.outcome == TrainingOutcome::kCompleted)
    summary.message = fmt::format("trained {} batches", batch_);
  return summary;
}

void Trainer::report_progress(const BatchMetrics& m, double rate) const {
  if (training_.quiet()) return;
  const double eta = rate > 0 ? (training_.n_batches() - m.batch) / rate : 0.0;
  std::string validation = m.validation_loss ? fmt::format(" | validation {:.4f}", *m.validation_loss) : "";
  if (isatty(fileno(stderr))) {
    const int width = 30;
    const int filled = static_cast<int>(width * m.batch / std::max<int64_t>(1, training_.n_batches()));
    std::cerr << fmt::format("\r[{}{}] {}/{} | loss {:.4f}{} | {:.1f} batch/s | ETA {}   ", std::string(filled, '#'),
                             std::string(width - filled, '.'), m.batch, training_.n_batches(), m.loss, validation, rate,
                             format_duration(eta))
              << std::flush;
  } else if (m.batch % training_.log_every() == 0 || m.batch == training_.n_batches() || m.validation_loss) {
    std::cerr << fmt::format("batch {}/{} loss {:.5f}{} lr {:.3g} grad {:.3g} | {:.1f} batch/s, ETA {}\n", m.batch,
                             training_.n_batches(), m.loss, validation, m.lr, m.grad_norm, rate, format_duration(eta));
  }
}

void Trainer::write_metrics_header() const {
  std::vector<std::string> columns = {"batch", "time_s", "loss"};
  for (const auto& term : losses_.terms()) columns.push_back("loss_" + term.name);
  columns.insert(columns.end(), {"validation_loss", "lr", "grad_norm"});
  write_text_atomically((fs::path(run_directory_) / "metrics.csv").string(), fmt::format("{}\n", fmt::join(columns, ",")));
}

void Trainer::append_metrics(const BatchMetrics& m) const {
  std::ofstream out(fs::path(run_directory_) / "metrics.csv", std::ios::app);
  out << fmt::format("{},{:.3f},{:.8g}", m.batch, m.elapsed, m.loss);
  for (const auto& term : losses_.terms()) out << fmt::format(",{:.8g}", m.terms.at(term.name));
  out << "," << (m.validation_loss ? fmt::format("{:.8g}", *m.validation_loss) : std::string());
  out << fmt::format(",{:.8g},{:.8g}\n", m.lr, m.grad_norm);
}

void Trainer::truncate_metrics_after(int64_t batch) const {
  const auto path = fs::path(run_directory_) / "metrics.csv";
  std::ifstream in(path);
  if (!in) {
    write_metrics_header();
    return;
  }
  std::stringstream kept;
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (!header) {
      auto comma = line.find(',');
      if (line.empty() || std::stoll(line.substr(0, comma)) > batch) continue;
    }
    kept << line << "\n";
    header = false;
  }
  in.close();
  write_text_atomically(path.string(), kept.str());
}

void Trainer::save_checkpoint() const {
  require(!run_directory_.empty(), "run_directory", "checkpoints need a run directory");
  torch::serialize::OutputArchive archive, policy_archive, optimizer_archive;
  policy_->save(policy_archive);
  optimizer_->save(optimizer_archive);
  archive.write("policy", policy_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("environment_generator", environment_->generator().get_state());
  archive.write("noise_generator", noise_generator_.get_state());
  archive.write("batch", torch::tensor(batch_, torch::kInt64));
  archive.write("elapsed", torch::tensor(elapsed_, torch::kFloat64));
  write_file_atomically((fs::path(run_directory_) / "checkpoint.pt").string(),
                        [&](std::ostream& out) { archive.save_to(out); });
  last_checkpoint_batch_ = batch_;
}

std::string Trainer::kept_checkpoint() const {
  if (run_directory_.empty()) return "nothing was saved (no run directory)";
  if (last_checkpoint_batch_ < 0) return "no checkpoint had been written yet";
  return fmt::format("the last good checkpoint (batch {}) was kept", last_checkpoint_batch_);
}

void Trainer::resume() {
  const auto path = fs::path(run_directory_) / "checkpoint.pt";
  require(fs::exists(path), path.string(), "no checkpoint to resume from");
  try {
    torch::serialize::InputArchive archive, policy_archive, optimizer_archive;
    archive.load_from(path.string());
    archive.read("policy", policy_archive);
    archive.read("optimizer", optimizer_archive);
    load_parameters_checked(*policy_, policy_archive, path.string());
    optimizer_->load(optimizer_archive);
    torch::Tensor environment_state, noise_state, batch, elapsed;
    archive.read("environment_generator", environment_state);
    archive.read("noise_generator", noise_state);
    archive.read("batch", batch);
    archive.read("elapsed", elapsed);
    environment_->generator().set_state(environment_state);
    noise_generator_.set_state(noise_state);
    batch_ = batch.item<int64_t>();
    elapsed_ = elapsed.item<double>();
    last_checkpoint_batch_ = batch_;
  } catch (const c10::Error& error) {
    std::string what = error.what_without_backtrace();
    throw InputError(path.string(), "the checkpoint is corrupt or does not match this configuration (" +
                                        what.substr(0, what.find('\n')) + ")");
  }
  truncate_metrics_after(batch_);
}

void Trainer::export_policy() const {
  require(!run_directory_.empty(), "run_directory", "exporting needs a run directory");
  write_via_temporary((fs::path(run_directory_) / "policy.pt").string(),
                      [&](const std::string& temporary) { policy_->export_torchscript(temporary); });
}

}  // namespace motornet
