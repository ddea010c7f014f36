#pragma once
// The optimizer a trainer steps and the learning-rate schedule it follows, built from OptimizerOptions.

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "motornet/core/option_table.h"

namespace motornet {

enum class OptimizerType { kAdam, kAdamW, kSgd };
inline const EnumNameTable<OptimizerType>& enum_names(OptimizerType) {
  static const EnumNameTable<OptimizerType> table{
      "optimizer", {{"adam", OptimizerType::kAdam}, {"adamw", OptimizerType::kAdamW}, {"sgd", OptimizerType::kSgd}}};
  return table;
}

// Learning-rate schedules over batches: constant; step (times `gamma` every `step_size` batches); cosine (from
// lr to `min_lr` over the run).
enum class ScheduleType { kConstant, kStep, kCosine };
inline const EnumNameTable<ScheduleType>& enum_names(ScheduleType) {
  static const EnumNameTable<ScheduleType> table{
      "schedule",
      {{"constant", ScheduleType::kConstant}, {"step", ScheduleType::kStep}, {"cosine", ScheduleType::kCosine}}};
  return table;
}

struct OptimizerOptions {
  TORCH_ARG(OptimizerType, type) = OptimizerType::kAdam;
  TORCH_ARG(double, lr) = 1e-3;
  TORCH_ARG(double, weight_decay) = 0.0;
  TORCH_ARG(std::vector<double>, betas) = std::vector<double>{0.9, 0.999};
  TORCH_ARG(double, eps) = 1e-8;
  TORCH_ARG(double, momentum) = 0.0;  // sgd
  TORCH_ARG(ScheduleType, schedule) = ScheduleType::kConstant;
  TORCH_ARG(int64_t, step_size) = 1000;
  TORCH_ARG(double, gamma) = 0.5;
  TORCH_ARG(double, min_lr) = 0.0;
};

// The `optimizer:` block's keys, defaults and checks (core/option_table.h).
const OptionTable<OptimizerOptions>& optimizer_option_table();
// Throws InputError naming the first bad option (optimizer.lr, optimizer.schedule, ...).
void check_optimizer_options(const OptimizerOptions& options);

// A fresh LibTorch optimizer (Adam, AdamW or SGD) over `parameters`.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerOptions& options,
                                                        std::vector<torch::Tensor> parameters);

// The learning rate of each batch of a run of `n_batches`.
class LearningRateSchedule {
 public:
  LearningRateSchedule(OptimizerOptions options, int64_t n_batches);
  double at(int64_t batch) const;  // batch: 0-based, the batch about to be trained
  // Sets every parameter group of `optimizer` to the rate of `batch`; returns that rate.
  double apply(torch::optim::Optimizer& optimizer, int64_t batch) const;

 private:
  OptimizerOptions options_;
  int64_t n_batches_;
};

}  // namespace motornet
