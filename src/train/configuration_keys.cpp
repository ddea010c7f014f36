#include "motornet/train/configuration_keys.h"

#include <fmt/format.h>

#include <sstream>

#include "motornet/body/effector.h"
#include "motornet/body/skeletons/point_mass.h"
#include "motornet/body/skeletons/two_dof_arm.h"
#include "motornet/control/policies/mlp_policy.h"
#include "motornet/control/policies/recurrent_policy.h"
#include "motornet/env/environment.h"
#include "motornet/env/force_field.h"
#include "motornet/env/tasks/centre_out_reach.h"
#include "motornet/env/tasks/delayed_reach.h"
#include "motornet/env/tasks/reach_task.h"
#include "motornet/train/optimizer.h"
#include "motornet/train/trainer.h"

namespace motornet {

namespace {
template <class Options>
void section(std::ostringstream& out, const std::string& block, const std::string& note, const OptionTable<Options>& table,
             const Options& defaults) {
  out << fmt::format("### `{}`{}\n\n", block, note.empty() ? "" : " (" + note + ")") << table.markdown(defaults) << "\n";
}
}  // namespace

std::string configuration_keys_markdown() {
  std::ostringstream out;
  section(out, "effector", "with a preset: the preset's values are the defaults", effector_option_table(),
          EffectorOptions());
  section(out, "effector.skeleton", "type: PointMass", point_mass_option_table(), PointMassOptions());
  section(out, "effector.skeleton", "type: TwoDofArm", two_dof_arm_option_table(), TwoDofArmOptions());
  section(out, "environment", "", environment_option_table(), EnvironmentOptions());
  section(out, "environment.task", "every reaching task; DelayedReach's go_cue_window is [0.2, 0.5]",
          reach_task_option_table(), ReachTaskOptions());
  section(out, "environment.task", "type: CentreOutReach", centre_out_reach_option_table(), CentreOutReachOptions());
  section(out, "environment.task.fields[i]",
          "every field; curl: strength; viscous: viscosity; constant: force; channel: stiffness, damping; pulse: "
          "magnitude, duration, onset_window, angles or directions",
          force_field_option_table(), ForceFieldOptions());
  section(out, "policy", "type: GRU, LSTM or RNN; also hidden_noise, and RNN's nonlinearity (tanh or relu)",
          recurrent_policy_option_table(), RecurrentPolicyOptions(0, 0));
  section(out, "policy", "type: MLP; also hidden_noise", mlp_policy_option_table(), MlpPolicyOptions(0, 0));
  section(out, "optimizer", "", optimizer_option_table(), OptimizerOptions());
  section(out, "training", "", training_option_table(), TrainingOptions());
  return out.str();
}

}  // namespace motornet
