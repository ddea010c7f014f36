#include "motornet/train/optimizer.h"

#include <fmt/format.h>

#include <cmath>

#include "motornet/core/error.h"

namespace motornet {

const OptionTable<OptimizerOptions>& optimizer_option_table() {
  static const auto table =
      OptionTable<OptimizerOptions>()
          .add(MOTORNET_OPTION(type), "adam, adamw or sgd")
          .add(MOTORNET_OPTION(lr), "learning rate (the schedule's start)", checks::positive())
          .add(MOTORNET_OPTION(weight_decay), "L2 penalty (adam, sgd) or decoupled decay (adamw)",
               checks::non_negative())
          .add(MOTORNET_OPTION(betas), "adam and adamw: the moments' decay rates, two numbers in [0, 1)",
               OptionCheck<std::vector<double>>([](const std::vector<double>& b) -> std::optional<std::string> {
                 if (b.size() == 2 && b[0] >= 0 && b[0] < 1 && b[1] >= 0 && b[1] < 1) return std::nullopt;
                 return "expected two numbers in [0, 1)";
               }))
          .add(MOTORNET_OPTION(eps), "adam and adamw: the denominator's guard", checks::positive())
          .add(MOTORNET_OPTION(momentum), "sgd: momentum", checks::non_negative())
          .add(MOTORNET_OPTION(schedule),
               "learning rate over batches: constant; step (times gamma every step_size batches); cosine (to min_lr)")
          .add(MOTORNET_OPTION(step_size), "step schedule: batches between steps", checks::at_least(1))
          .add(MOTORNET_OPTION(gamma), "step schedule: factor per step", checks::positive())
          .add(MOTORNET_OPTION(min_lr), "cosine schedule: the final learning rate, in [0, lr]", checks::non_negative())
          .rule("min_lr", [](const OptimizerOptions& o) -> std::optional<std::string> {
            if (o.min_lr() <= o.lr()) return std::nullopt;
            return fmt::format("must lie in [0, lr], got {} with lr {}", o.min_lr(), o.lr());
          });
  return table;
}

void check_optimizer_options(const OptimizerOptions& options) { optimizer_option_table().check(options, "optimizer"); }

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerOptions& o,
                                                        std::vector<torch::Tensor> parameters) {
  if (o.type() == OptimizerType::kSgd)
    return std::make_unique<torch::optim::SGD>(
        parameters, torch::optim::SGDOptions(o.lr()).momentum(o.momentum()).weight_decay(o.weight_decay()));
  auto betas = std::make_tuple(o.betas()[0], o.betas()[1]);
  if (o.type() == OptimizerType::kAdamW)
    return std::make_unique<torch::optim::AdamW>(
        parameters, torch::optim::AdamWOptions(o.lr()).betas(betas).eps(o.eps()).weight_decay(o.weight_decay()));
  return std::make_unique<torch::optim::Adam>(
      parameters, torch::optim::AdamOptions(o.lr()).betas(betas).eps(o.eps()).weight_decay(o.weight_decay()));
}

LearningRateSchedule::LearningRateSchedule(OptimizerOptions options, int64_t n_batches)
    : options_(std::move(options)), n_batches_(n_batches) {}

double LearningRateSchedule::at(int64_t batch) const {
  const auto& o = options_;
  if (o.schedule() == ScheduleType::kStep) return o.lr() * std::pow(o.gamma(), static_cast<double>(batch / o.step_size()));
  if (o.schedule() == ScheduleType::kCosine) {
    const double progress = n_batches_ > 0 ? static_cast<double>(batch) / n_batches_ : 0.0;
    return o.min_lr() + 0.5 * (o.lr() - o.min_lr()) * (1.0 + std::cos(M_PI * std::min(progress, 1.0)));
  }
  return o.lr();
}

double LearningRateSchedule::apply(torch::optim::Optimizer& optimizer, int64_t batch) const {
  const double lr = at(batch);
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
  return lr;
}

}  // namespace motornet
