#pragma once
// Trainer: backpropagation through time over whole episodes. Each batch draws fresh trials from the
// environment, rolls the policy out, computes the composite loss, backpropagates through the policy and the
// body, clips the gradient norm and takes an optimizer step at the scheduled learning rate. With a run
// directory it writes metrics.csv, atomic checkpoints (every `checkpoint_every` batches, at the end and when
// stopped) and the TorchScript policy; `resume` continues a run exactly as if it had not stopped.
//
// Replicates: given K policies, the trainer trains K independent networks at once (replicate k with seed
// `seed + k`: its own trials, noise, optimizer state, gradient clipping, metrics, checkpoint and policy.pt in
// run_directory/replicate_kk/), stepping through one vectorised rollout, or (training.replicate_groups) in
// groups side by side, one per thread (sized by the threads' speed: GroupBalancer). Replicate k ends exactly
// where a single run with seed `seed + k` ends, up to float round-off, and at the same bits however the
// replicates are grouped.
//
// Data-parallel: with a process group in the options, every rank runs its shard of the global batch (drawn
// from the global seed, so the result does not depend on the number of processes), gradients are averaged by
// one all-reduce per batch, and rank 0 alone writes files.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "motornet/scale/distributed.h"
#include "motornet/env/environment.h"
#include "motornet/control/loss.h"
#include "motornet/control/policy.h"
#include "motornet/train/checkpoint.h"
#include "motornet/train/group_balancer.h"
#include "motornet/core/stop_token.h"
#include "motornet/train/metrics_log.h"
#include "motornet/train/optimizer.h"

namespace motornet {

// Where a trainer's batches lie in a run of several phases (train/phases.h); the defaults are a run of one.
struct PhasePlacement {
  TORCH_ARG(std::string, name) = "training";
  // Batches of the phases before: the trainer trains batches first_batch + 1 .. first_batch + n_batches.
  TORCH_ARG(int64_t, first_batch) = 0;
  // metrics.csv's loss columns (every phase's terms, so that one file holds the run); empty: the trainer's own.
  TORCH_ARG(std::vector<std::string>, logged_terms) = {};
  // Another phase follows this one: its last batch is validated too (the last phase's end may move on resume).
  TORCH_ARG(bool, followed) = false;
};

struct TrainingOptions {
  TORCH_ARG(int64_t, batch_size) = 32;
  TORCH_ARG(int64_t, n_batches) = 1000;
  TORCH_ARG(double, gradient_clip) = 1.0;  // maximal gradient norm; 0 = no clipping
  TORCH_ARG(int64_t, validation_every) = 100;  // 0 = never
  TORCH_ARG(int64_t, validation_batch_size) = 256;
  TORCH_ARG(int64_t, checkpoint_every) = 500;  // 0 = only at the end
  TORCH_ARG(int64_t, log_every) = 50;          // plain progress lines when not on a terminal
  // Keep the policy every N batches and at the end of each phase: snapshots/batch_000800.pt (TorchScript, like
  // policy.pt); 0 = no snapshots.
  TORCH_ARG(int64_t, snapshot_every) = 0;
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(bool, quiet) = false;
  TORCH_ARG(int64_t, replicates) = 1;  // how many policies the experiment builds (the trainer counts those given)
  // How the replicates share the threads: 1 = one stacked rollout of all K (its steps' nodes split their rows
  // among the threads); G > 1 = G groups of consecutive replicates side by side, one per thread, each through
  // its own rollout, loss and backward (the whole batch is parallel, not only the nodes); 0 = pick: one group
  // per thread (at most K) when make_environment is given and the body runs on the CPU, else 1. Every choice
  // gives each replicate the same bits.
  TORCH_ARG(int64_t, replicate_groups) = 0;
  // Builds another environment like the trainer's (same effector, task and options; the trainer gives it its
  // group's random streams): what replicate groups step. Without it the replicates train stacked.
  // experiment_from_config sets it; an environment subclass the trainer cannot rebuild simply leaves it unset.
  TORCH_ARG(std::function<Environment()>, make_environment) = nullptr;
  // n_batches counts this phase's batches; the learning-rate schedule runs over them.
  TORCH_ARG(PhasePlacement, phase) = PhasePlacement();
  // Identifies the run's configuration (run_training: the SHA-256 of its text, less what a resume may change);
  // checkpoints carry it and a resume refuses a checkpoint written under another. "": not checked.
  TORCH_ARG(std::string, configuration_sha256) = "";
  // Data-parallel process group (nullptr: this process trains alone).
  TORCH_ARG(std::shared_ptr<DataParallelGroup>, data_parallel) = nullptr;
  // Requesting a stop on this token (or a copy: another thread, an app's SIGINT handler) ends train() after the
  // current batch, with a checkpoint written.
  TORCH_ARG(StopToken, stop) = StopToken();
};

// The `training:` block's keys, defaults and checks (core/option_table.h); seed comes from the top level and the
// rest (quiet, data_parallel, stop) from the caller.
const OptionTable<TrainingOptions>& training_option_table();
// Throws InputError naming the first bad option (optimizer.lr, training.batch_size, ...).
void check_training_options(const OptimizerOptions& optimizer, const TrainingOptions& training);

enum class TrainingOutcome { kCompleted, kInterrupted, kDiverged };

struct TrainingSummary {
  TrainingOutcome outcome = TrainingOutcome::kCompleted;
  int64_t batches_done = 0;
  double seconds = 0.0;
  double mean_recent_loss = 0.0;  // mean training loss of the last (up to) 100 batches (a resumed run: across sessions)
  std::optional<double> last_validation_loss;
  // Per replicate (one entry without replicates); the two above are their means.
  std::vector<double> replicate_recent_loss;
  std::vector<double> replicate_validation_loss;
  std::string message;
};

class Trainer {
 public:
  // `run_directory` empty: train in memory only (no files).
  Trainer(Environment environment, Policy policy, CompositeLoss losses, OptimizerOptions optimizer,
          TrainingOptions training, std::string run_directory = "");
  // K >= 1 replicate policies of one architecture (see above).
  Trainer(Environment environment, std::vector<Policy> replicates, CompositeLoss losses, OptimizerOptions optimizer,
          TrainingOptions training, std::string run_directory = "");
  ~Trainer();

  // Trains until n_batches are done (or a stop is requested, or the loss diverges).
  TrainingSummary train();
  // Loss on the fixed validation batch (deterministic, no gradient); the first replicate's.
  LossValues validate();
  std::vector<LossValues> validate_replicates();
  // Loads the checkpoint of the run directory (each replicate's); the next `train` continues from it.
  void resume();
  // The next phase of a run, trained by this trainer over the same policies: takes over the previous phase's
  // batch count and training time and, with `keep_optimizer`, its optimizers (their moments; the learning rate
  // follows this phase's schedule); without, this trainer's fresh optimizers start the phase.
  void continue_from(Trainer& previous, bool keep_optimizer);
  void save_checkpoint() const;
  void export_policy() const;
  // snapshots/batch_NNNNNN.pt in each replicate's directory: the policy now, as TorchScript.
  void save_snapshot() const;
  // The batch this trainer's phase ends at (first_batch + n_batches).
  int64_t end_batch() const { return training_.phase().first_batch() + training_.n_batches(); }

  // Thread-safe: the current batch finishes, a checkpoint is written, and train() returns (training.stop).
  void request_stop() { training_.stop().request(); }

  int64_t batches_done() const { return batch_; }
  double learning_rate(int64_t batch) const { return schedule_.at(batch); }
  const Policy& policy() const { return replicas_.front().policy; }  // the first replicate's
  int64_t n_replicates() const { return static_cast<int64_t>(replicas_.size()); }
  // How many groups of replicates train side by side (1: one stacked rollout; see training.replicate_groups).
  int64_t n_replicate_groups() const { return groups_.empty() ? 1 : static_cast<int64_t>(groups_.size()); }
  // Replicates per group now (one entry without groups). With as many groups as threads they follow the
  // threads' speed (GroupBalancer).
  std::vector<int64_t> replicate_group_sizes() const;
  // Forms the groups anew with these sizes (consecutive replicates, each group at least one, K in all); every
  // replicate's bits stay as they would have been. An InputError names what is wrong with `sizes`.
  void resize_replicate_groups(const std::vector<int64_t>& sizes);
  const Policy& replicate_policy(int64_t k) const { return replicas_.at(k).policy; }
  // Where replicate k's files go ("" without a run directory).
  std::string replicate_directory(int64_t k) const { return replicas_.at(k).directory; }
  const Environment& environment() const { return environment_; }
  const TrainingOptions& training_options() const { return training_; }
  std::function<void(const BatchMetrics&)> on_batch;  // called after every batch

 private:
  // One replicate network and everything that is its own.
  struct Replica {
    uint64_t seed = 0;
    Policy policy;
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    torch::Generator environment_generator, noise_generator;
    std::string directory;  // "" without a run directory
    std::optional<MetricsLog> metrics;  // directory/metrics.csv (none without a run directory)
    std::vector<double> recent;  // training losses of the last (up to) 100 batches
  };

  bool writes_files() const;  // a run directory, and rank 0 (or no process group)
  CheckpointParts checkpoint_parts(const Replica& replica) const;
  // Consecutive replicates [first, first + count) trained side by side with the other groups, in an
  // environment of their own.
  struct ReplicaGroup {
    int64_t first = 0, count = 0;
    Environment environment{nullptr};
    Policy stepper;  // the replicate, or the group's replicates at once
  };

  // Splits the replicates into training.replicate_groups groups (none: one stacked rollout).
  void form_groups();
  // Gives `group` the replicates [first, first + count): their streams in its environment, and their policies.
  void assign_replicates(ReplicaGroup& group, int64_t first, int64_t count);
  // Gives the groups, in order, these many consecutive replicates (those whose replicates change only).
  void apply_group_sizes(const std::vector<int64_t>& sizes);
  // body(k) for every replicate: in order, or with groups, each group's on its thread side by side.
  void for_each_replica(const std::function<void(int64_t)>& body);
  // One batch's rollout, losses and backward, stacked or by groups side by side; returns each replicate's loss
  // and terms as numbers (replicate by replicate).
  std::vector<double> rollout_and_backward();
  // Sums each replicate's loss and terms into one backward pass; returns their values as numbers.
  std::vector<double> backward(const std::vector<LossValues>& values);
  // Data-parallel: averages the gradients and `scalars` over ranks (one all-reduce) and returns whether any
  // rank asked to stop. Alone: whether this process asked.
  bool share_across_ranks(std::vector<double>& scalars);
  // Clips each replicate's gradient; a message naming the replicate and batch when a loss or norm is not finite.
  std::string clip_gradients(const std::vector<double>& scalars, std::vector<double>& grad_norms);
  // The composite loss of each replicate's block of an episode of `replicates` blocks.
  std::vector<LossValues> replicate_losses(const EpisodeRecord& episode, int64_t replicates) const;
  std::string kept_checkpoint() const;  // what a stopped run leaves, for messages

  Environment environment_;
  std::vector<Replica> replicas_;
  Policy stepper_;  // what the rollout steps: the policy, or all replicates at once
  std::vector<ReplicaGroup> groups_;  // empty: training steps stepper_ through environment_
  std::optional<GroupBalancer> balancer_;  // groups on threads of their own
  Shard shard_;
  CompositeLoss losses_;
  OptimizerOptions optimizer_options_;
  TrainingOptions training_;
  LearningRateSchedule schedule_;
  std::string run_directory_;
  std::shared_ptr<DataParallelGroup> group_;
  ResetOptions validation_reset_;
  int64_t batch_ = 0;
  double elapsed_ = 0.0;
  mutable int64_t last_checkpoint_batch_ = -1;
};

}  // namespace motornet
