#pragma once
// Trainer: backpropagation through time over whole episodes. Each batch draws fresh trials from the
// environment, rolls the policy out, computes the composite loss, backpropagates through the policy and the
// body, clips the gradient norm and takes an optimizer step at the scheduled learning rate. With a run
// directory it writes metrics.csv, atomic checkpoints (every `checkpoint_every` batches, at the end and when
// stopped) and the TorchScript policy; `resume` continues a run exactly as if it had not stopped.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "motornet/environment.h"
#include "motornet/loss.h"
#include "motornet/policy.h"

namespace motornet {

struct OptimizerOptions {
  TORCH_ARG(std::string, type) = "adam";  // adam, adamw, sgd
  TORCH_ARG(double, lr) = 1e-3;
  TORCH_ARG(double, weight_decay) = 0.0;
  TORCH_ARG(std::vector<double>, betas) = std::vector<double>{0.9, 0.999};
  TORCH_ARG(double, eps) = 1e-8;
  TORCH_ARG(double, momentum) = 0.0;  // sgd
  // Learning-rate schedule over batches: constant; step (times `gamma` every `step_size` batches); cosine (from
  // lr to `min_lr` over the run).
  TORCH_ARG(std::string, schedule) = "constant";
  TORCH_ARG(int64_t, step_size) = 1000;
  TORCH_ARG(double, gamma) = 0.5;
  TORCH_ARG(double, min_lr) = 0.0;
};

struct TrainingOptions {
  TORCH_ARG(int64_t, batch_size) = 32;
  TORCH_ARG(int64_t, n_batches) = 1000;
  TORCH_ARG(double, gradient_clip) = 1.0;  // maximal gradient norm; 0 = no clipping
  TORCH_ARG(int64_t, validation_every) = 100;  // 0 = never
  TORCH_ARG(int64_t, validation_batch_size) = 256;
  TORCH_ARG(int64_t, checkpoint_every) = 500;  // 0 = only at the end
  TORCH_ARG(int64_t, log_every) = 50;          // plain progress lines when not on a terminal
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(bool, quiet) = false;
};

struct BatchMetrics {
  int64_t batch = 0;  // 1-based count of batches done
  double elapsed = 0.0;  // s of training so far (across resumes)
  double loss = 0.0;
  std::map<std::string, double> terms;
  std::optional<double> validation_loss;
  double lr = 0.0;
  double grad_norm = 0.0;
};

enum class TrainingOutcome { kCompleted, kInterrupted, kDiverged };

struct TrainingSummary {
  TrainingOutcome outcome = TrainingOutcome::kCompleted;
  int64_t batches_done = 0;
  double seconds = 0.0;
  double mean_recent_loss = 0.0;  // mean training loss of the last (up to) 100 batches of this call
  std::optional<double> last_validation_loss;
  std::string message;
};

class Trainer {
 public:
  // `run_directory` empty: train in memory only (no files).
  Trainer(Environment environment, Policy policy, CompositeLoss losses, OptimizerOptions optimizer,
          TrainingOptions training, std::string run_directory = "");

  // Trains until n_batches are done (or a stop is requested, or the loss diverges).
  TrainingSummary train();
  // Loss on the fixed validation batch (deterministic, no gradient).
  LossValues validate();
  // Loads the checkpoint of the run directory; the next `train` continues from it.
  void resume();
  void save_checkpoint() const;
  void export_policy() const;

  // Thread- and signal-safe: the current batch finishes, a checkpoint is written, and train() returns.
  void request_stop() { stop_requested_ = true; }
  static std::atomic<bool>* global_stop_flag();  // set by the apps' SIGINT handler

  int64_t batches_done() const { return batch_; }
  double learning_rate(int64_t batch) const;
  const Policy& policy() const { return policy_; }
  const Environment& environment() const { return environment_; }
  const TrainingOptions& training_options() const { return training_; }
  std::function<void(const BatchMetrics&)> on_batch;  // called after every batch

 private:
  void write_metrics_header() const;
  void append_metrics(const BatchMetrics& metrics) const;
  void truncate_metrics_after(int64_t batch) const;
  void report_progress(const BatchMetrics& metrics, double rate) const;
  std::string kept_checkpoint() const;  // what a stopped run leaves, for messages

  Environment environment_;
  Policy policy_;
  CompositeLoss losses_;
  OptimizerOptions optimizer_options_;
  TrainingOptions training_;
  std::string run_directory_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  torch::Generator noise_generator_;
  ResetOptions validation_reset_;
  int64_t batch_ = 0;
  double elapsed_ = 0.0;
  mutable int64_t last_checkpoint_batch_ = -1;
  std::atomic<bool> stop_requested_{false};
};

}  // namespace motornet
