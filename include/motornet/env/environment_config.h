#pragma once
// Builds environments, tasks and force fields from YAML:
//   environment:
//     max_ep_duration: 1.0          # s
//     proprioception_delay: 0.02    # s, a whole multiple of the timestep (default: one timestep)
//     vision_delay: 0.05
//     proprioception_noise: 0.0     # standard deviations
//     vision_noise: 0.0
//     obs_noise: 0.0                # one value, or a list with one per observation entry
//     action_noise: 0.0
//     action_frame_stacking: 0
//     seed: 0
//     task:
//       type: CentreOutReach        # RandomTargetReach (default), CentreOutReach, DelayedReach, PostureHold
//       n_targets: 8                # CentreOutReach: n_targets, radius (m), angle_offset (deg)
//       radius: 0.1
//       target_cue_window: [0, 0]   # s; every reaching task: target_cue_window, go_cue_window,
//       go_cue_window: [0.1, 0.3]   #    catch_fraction, start_posture (joint positions)
//       catch_fraction: 0.1
//       fields:                     # forces on the hand; each: name, fraction, start_time, end_time,
//         - {type: curl, strength: 15, off_before_go_cue: true}     # off_before_go_cue, and
//         - {type: viscous, viscosity: 5}                           # curl: strength; viscous: viscosity;
//         - {type: constant, force: [0, -2]}                        # constant: force;
//         - {type: pulse, magnitude: 8, duration: 0.05, onset_window: [0.1, 0.3], angles: [0, 90, 180, 270]}
//         - {type: channel, stiffness: 2000, damping: 50, fraction: 0.2}   # channel: stiffness, damping

#include "motornet/core/config.h"
#include "motornet/env/environment.h"
#include "motornet/env/force_field.h"
#include "motornet/env/task.h"

namespace motornet {

Environment environment_from_config(const ConfigNode& block, Effector effector);
EnvironmentOptions environment_options_from_config(const ConfigNode& block);
TaskPtr task_from_config(const ConfigNode& block);
std::shared_ptr<ForceField> force_field_from_config(const ConfigNode& block);

// A force field type for YAML `fields[i].type`: the keys it reads besides the common ones
// (force_field_option_table) and how to build it from its block and the common options.
struct ForceFieldType {
  std::vector<std::string> keys;
  std::function<std::shared_ptr<ForceField>(const ConfigNode& block, ForceFieldOptions options)> build;
};
void register_force_field_type(const std::string& type, ForceFieldType definition);
std::vector<std::string> force_field_types();

// A user's own task type for YAML `task.type`.
using TaskFactory = std::function<TaskPtr(const ConfigNode& block)>;
void register_task_type(const std::string& type, TaskFactory factory);
std::vector<std::string> task_types();

}  // namespace motornet
