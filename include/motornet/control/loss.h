#pragma once
// Losses on an episode record, composable with weights from YAML:
//   losses:
//     - {type: position_l1, weight: 1.0}
//     - {type: muscle_activation, weight: 1e-3}
// Built-in terms (means over batch and time of the per-step quantity unless stated):
//   position_l1      sum over space of |fingertip - goal|        (MotorNet's L1, includes the reset sample)
//   position_l2      sum over space of (fingertip - goal)²
//   muscle_activation             sum over muscles of activation²
//   muscle_activation_derivative  sum over muscles of (activation change per step)²
//   muscle_force                  sum over muscles of (force / F0)²
//   muscle_force_derivative       sum over muscles of (change of force / F0 per step)²
//   hidden_activity               mean over units of hidden²
//   hidden_activity_derivative    mean over units of (hidden change per step)²
//   hand_speed                    squared hand speed (m²/s²)
//   hand_jerk                     sum over space of (second difference of hand velocity per step)²
//   endpoint_speed                squared hand speed at the last step only (mean over batch)
// A step difference counts at its later step (an activation change at step k+1, a jerk at step k+2), so every
// built-in term also takes a time window (control/loss_window.h: `window: [t0, t1]`, `from: go_cue`,
// `until: go_cue`) and is then the mean over the steps the window counts.
// Each term is reported separately (unweighted); the training objective is the weighted sum.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "motornet/core/config.h"
#include "motornet/control/episode.h"
#include "motornet/control/loss_window.h"

namespace motornet {

class Loss {
 public:
  virtual ~Loss() = default;
  virtual std::string type_name() const = 0;
  virtual torch::Tensor compute(const EpisodeRecord& episode) const = 0;  // a scalar
};

// A whole-episode loss: the episode in, a scalar out (a window cannot apply to it).
using LossFunction = std::function<torch::Tensor(const EpisodeRecord&)>;

// A loss term's value at each step it is defined at: `value` [B, n] holds steps first_step .. first_step + n - 1
// of the episode (0 = the state after reset).
struct StepValues {
  torch::Tensor value;
  int64_t first_step = 0;
};
using StepLossFunction = std::function<StepValues(const EpisodeRecord&)>;

// A loss from a whole-episode function, under a name.
class FunctionLoss : public Loss {
 public:
  FunctionLoss(std::string name, LossFunction function) : name_(std::move(name)), function_(std::move(function)) {}
  std::string type_name() const override { return name_; }
  torch::Tensor compute(const EpisodeRecord& episode) const override { return function_(episode); }

 private:
  std::string name_;
  LossFunction function_;
};

// A loss from a per-step function (the built-ins): the mean over batch and steps, or over the steps its window
// counts.
class StepLoss : public Loss {
 public:
  StepLoss(std::string name, StepLossFunction function, LossWindow window = {})
      : name_(std::move(name)), function_(std::move(function)), window_(std::move(window)) {}
  std::string type_name() const override { return name_; }
  torch::Tensor compute(const EpisodeRecord& episode) const override;

 private:
  std::string name_;
  StepLossFunction function_;
  LossWindow window_;
};

struct WeightedLoss {
  std::string name;  // the column name in metrics ("position_l1", or the YAML `name`)
  double weight = 1.0;
  std::shared_ptr<Loss> loss;
};

// The weighted sum of the terms and each term's (unweighted) value.
struct LossValues {
  torch::Tensor total;
  std::map<std::string, torch::Tensor> terms;
};

class CompositeLoss {
 public:
  explicit CompositeLoss(std::vector<WeightedLoss> terms);
  LossValues compute(const EpisodeRecord& episode) const;
  const std::vector<WeightedLoss>& terms() const { return terms_; }

 private:
  std::vector<WeightedLoss> terms_;
};

// The loss of a registered type, counted over `window` (a whole-episode type refuses a bounded window).
std::shared_ptr<Loss> make_loss(const std::string& type, const std::string& config_path = "type",
                                const LossWindow& window = {});
std::vector<std::string> loss_types();
void register_loss_type(const std::string& type, LossFunction function);
void register_step_loss_type(const std::string& type, StepLossFunction function);

// From the YAML list `losses` ([{type, weight, name, window | from, until}]).
CompositeLoss losses_from_config(const ConfigNode& block);

}  // namespace motornet
