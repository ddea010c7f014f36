// A task defined in C++ and trained with the Trainer: hold the hand on a target that jumps once, half-way
// through the trial ("target jump" experiments). The task declares its goal over time and its observation
// inputs; the policy, the losses and the trainer need nothing task-specific.
// Run: build/examples/custom_task [n_batches]

#include <motornet/motornet.h>

#include <iostream>

using namespace motornet;

class TargetJumpImpl : public ReachTask {
 public:
  TargetJumpImpl() : ReachTask(ReachTaskOptions()) {}
  std::string type_name() const override { return "TargetJump"; }
  int64_t n_inputs(int64_t space_dim) const override { return space_dim; }  // the current target

  void compose(Trials& trials, int64_t n_steps) const override {
    // Goal: the first target for the first half, then the second one (kept in `target`).
    const int64_t half = n_steps / 2;
    auto first = trials.start + 0.5 * (trials.target - trials.start);
    auto step = torch::arange(n_steps + 1).unsqueeze(0).unsqueeze(2);
    trials.goal = torch::where(step < half, first.unsqueeze(1), trials.target.unsqueeze(1)).expand(
        {trials.batch_size(), n_steps + 1, trials.start.size(1)});
    trials.inputs = trials.goal;
  }

 protected:
  std::pair<torch::Tensor, torch::Tensor> draw_start_and_target(int64_t batch_size, const EffectorImpl& effector,
                                                                torch::Generator& generator, bool) const override {
    return random_start_and_target(batch_size, effector, generator);  // as RandomTargetReach
  }
};

int main(int argc, char** argv) {
  const int64_t n_batches = argc > 1 ? std::stoll(argv[1]) : 30;
  torch::manual_seed(0);
  auto effector = make_relu_point_mass24();
  Environment environment(effector, std::make_shared<TargetJumpImpl>(),
                          EnvironmentOptions().max_ep_duration(0.5).vision_delay(0.02));
  auto policy = std::make_shared<RecurrentPolicyImpl>(
      RecurrentPolicyOptions(environment->observation_size(), effector->n_muscles()).hidden_size(32));
  CompositeLoss losses({WeightedLoss{"position_l1", 1.0, make_loss("position_l1")}});
  Trainer trainer(environment, policy, losses, OptimizerOptions().lr(3e-3),
                  TrainingOptions().batch_size(32).n_batches(n_batches).validation_every(0).quiet(true));
  double first = 0.0;
  trainer.on_batch = [&](const BatchMetrics& m) {
    if (m.batch == 1) first = m.loss;
  };
  auto summary = trainer.train();
  std::cout << "TargetJump: loss " << first << " at batch 1, " << summary.mean_recent_loss << " on average over "
            << summary.batches_done << " batches\n";
  return summary.outcome == TrainingOutcome::kCompleted && summary.mean_recent_loss < first ? 0 : 1;
}
