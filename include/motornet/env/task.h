#pragma once
// The Task interface: what a trial asks of the effector. At reset a task draws the conditions of a batch of
// trials (start postures, targets, cue times, which trials get which forces) and declares, for every step,
// the goal the hand should be at and the inputs it adds to the observation. Losses and policies read those and
// need no task-specific code. Forces on the hand (fields, perturbations, channels) belong to the task.

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "motornet/body/effector.h"
#include "motornet/env/force_field.h"
#include "motornet/env/trials.h"

namespace motornet {

class Task {
 public:
  virtual ~Task() = default;

  virtual std::string type_name() const = 0;
  // Width E of the task's observation inputs for an effector with `space_dim` S.
  virtual int64_t n_inputs(int64_t space_dim) const = 0;
  // Checks the task against the effector and episode length (reachable targets, postures within bounds, cue
  // windows inside the episode); throws InputError naming the option.
  virtual void validate(const EffectorImpl& effector, double timestep, int64_t n_steps) const {}
  // Draws start postures, targets and cue steps of `batch_size` trials; `evaluation` selects the task's fixed
  // evaluation conditions. Goal, inputs and field draws are filled by `finish`.
  virtual Trials sample(int64_t batch_size, int64_t n_steps, double timestep, const EffectorImpl& effector,
                        torch::Generator& generator, bool evaluation) const = 0;
  // Fills goal [B, T+1, S] and inputs [B, T+1, E] from start, target and cue steps.
  virtual void compose(Trials& trials, int64_t n_steps) const = 0;

  // The natural batch for an evaluation (e.g. one trial per centre-out target); 0: no preference.
  virtual int64_t evaluation_batch_size() const { return 0; }

  void add_field(std::shared_ptr<ForceField> field) { fields_.push_back(std::move(field)); }
  const std::vector<std::shared_ptr<ForceField>>& fields() const { return fields_; }
  // The name under which field i reports its force ("curl_0" unless named).
  std::string field_name(size_t index) const;

 private:
  std::vector<std::shared_ptr<ForceField>> fields_;
};

using TaskPtr = std::shared_ptr<Task>;

}  // namespace motornet
