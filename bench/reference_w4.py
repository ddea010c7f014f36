"""Workload W4 (configs/bench_w4_curl_field.yaml) on the Python reference MotorNet 0.2, to time it side by side
with `motornet-bench --config configs/bench_w4_curl_field.yaml` in one session.

The reference has no tasks with cues, no force fields and no loss terms beyond what a user writes, so this file
writes them the way a reference user would (op by op in PyTorch, on the reference's public API): a centre-out
task (8 targets at 10 cm, go cue at 0.1-0.3 s, 10% catch trials), a curl field of 15 N s/m after the go cue and
a force channel (2000 N/m, 50 N s/m) on 10% of trials, both computed at every step as endpoint loads, delays of
70 ms (vision) and 20 ms (proprioception), noise 1e-3 on the senses and the action, a GRU of 100 units, batch 32,
160 steps, losses on position (L1), hand jerk, muscle force and hidden activity, Adam with gradient clipping.

usage (the reference checked out anywhere; Gymnasium stand-ins from bench/reference_shims are used when
Gymnasium is not installed):
    MOTORNET_REFERENCE=/path/to/MotorNet OMP_NUM_THREADS=1 /usr/bin/python3 bench/reference_w4.py --batches 10
"""
import argparse
import math
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import gymnasium  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.join(HERE, "reference_shims"))
reference = os.environ.get("MOTORNET_REFERENCE")
if not reference:
    sys.exit("set MOTORNET_REFERENCE to a checkout of github.com/motornet-org/MotorNet")
sys.path.insert(0, reference)

import torch  # noqa: E402
import motornet as mn  # noqa: E402

if getattr(mn, "engine", None) == "cpp":
    sys.exit(f"{mn.__file__} is this project's package, not the reference: check MOTORNET_REFERENCE")

N_STEPS, BATCH, HIDDEN = 160, 32, 100
CURL, CHANNEL_STIFFNESS, CHANNEL_DAMPING = 15.0, 2000.0, 50.0


class CentreOutCurl(mn.environment.Environment):
    """Centre-out reaches from one start posture; the task inputs are the target and a go signal."""

    def __init__(self, effector, **kwargs):
        super().__init__(effector, max_ep_duration=N_STEPS * effector.dt, proprioception_delay=0.02,
                         vision_delay=0.07, proprioception_noise=1e-3, vision_noise=1e-3, action_noise=1e-3,
                         **kwargs)
        self.centre = torch.tensor([[0.7854, 1.5708, 0.0, 0.0]])  # shoulder 45 deg, elbow 90 deg

    def reset(self, *, seed=None, options=None):
        batch = (options or {}).get("batch_size", 1)
        self.effector.reset(options={"batch_size": batch, "joint_state": self.centre.repeat(batch, 1)})
        self.start = self.joint2cartesian(self.effector.states["joint"])[:, :2]
        angle = torch.randint(0, 8, (batch,)).float() * (2 * math.pi / 8)
        self.target = self.start + 0.1 * torch.stack([angle.cos(), angle.sin()], 1)
        self.go_step = torch.randint(10, 31, (batch,))
        self.go_step[torch.rand(batch) < 0.1] = N_STEPS + 1  # catch trials
        self.channel_trial = (torch.rand(batch) < 0.1).float().unsqueeze(1)
        self.step_index = 0
        self.goal = self.target
        self.elapsed = 0.0
        zeros = torch.zeros(batch, self.effector.n_muscles)
        self.obs_buffer["proprioception"] = [self.get_proprioception()] * len(self.obs_buffer["proprioception"])
        self.obs_buffer["vision"] = [self.get_vision()] * len(self.obs_buffer["vision"])
        self.obs_buffer["action"] = [zeros] * self.action_frame_stacking
        return self.get_obs(), {"states": self.states}

    def _get_obs_size(self):
        return super()._get_obs_size() + 1  # the go signal

    def get_obs(self, action=None, deterministic=False):
        self.update_obs_buffer(action=action)
        go = (self.go_step <= self.step_index).float().unsqueeze(1)
        obs = torch.cat([self.goal, self.obs_buffer["vision"][0], self.obs_buffer["proprioception"][0], go], 1)
        return obs if deterministic else self.apply_noise(obs, noise=self.obs_noise)

    def desired_position(self):
        after_go = (self.go_step <= self.step_index).float().unsqueeze(1)
        return after_go * self.target + (1 - after_go) * self.start

    def step(self, action, deterministic=False, **kwargs):
        cartesian = self.states["cartesian"]
        position, velocity = cartesian[:, :2], cartesian[:, 2:]
        after_go = (self.go_step <= self.step_index).float().unsqueeze(1)
        curl = CURL * torch.stack([velocity[:, 1], -velocity[:, 0]], 1)
        line = self.target - self.start
        unit = line / line.norm(dim=1, keepdim=True)
        offset = position - self.start
        deviation = offset - (offset * unit).sum(1, keepdim=True) * unit
        deviation_rate = velocity - (velocity * unit).sum(1, keepdim=True) * unit
        channel = -(CHANNEL_STIFFNESS * deviation + CHANNEL_DAMPING * deviation_rate) * self.channel_trial
        load = (curl + channel) * after_go
        self.step_index += 1
        return super().step(action, deterministic=deterministic, endpoint_load=load)


def episode_loss(env, policy):
    obs, info = env.reset(options={"batch_size": BATCH})
    h = policy.init_hidden(batch_size=BATCH)
    force_row = env.effector.muscle.state_name.index("force")
    positions, velocities, forces, hiddens, desired = [], [], [], [], []
    for _ in range(N_STEPS):
        desired.append(env.desired_position())
        action, h = policy(obs, h)
        obs, _, _, _, info = env.step(action)
        positions.append(info["states"]["fingertip"])
        velocities.append(info["states"]["cartesian"][:, 2:])
        forces.append(info["states"]["muscle"][:, force_row])
        hiddens.append(h[0])
    position, velocity = torch.stack(positions, 1), torch.stack(velocities, 1)
    force = torch.stack(forces, 1) / env.effector.muscle.max_iso_force
    jerk = velocity.diff(dim=1).diff(dim=1)
    return ((position - torch.stack(desired, 1)).abs().sum(2).mean()
            + 1e-2 * jerk.pow(2).sum(2).mean()
            + 1e-4 * force.pow(2).sum(2).mean()
            + 1e-5 * torch.stack(hiddens, 1).pow(2).mean())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    torch.manual_seed(0)
    effector = mn.effector.RigidTendonArm26(muscle=mn.muscle.RigidTendonHillMuscle())
    env = CentreOutCurl(effector)
    policy = mn.policy.PolicyGRU(env.observation_space.shape[0], HIDDEN, env.n_muscles, device="cpu")
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-3)
    times = []
    for batch in range(args.warmup + args.batches):
        start = time.perf_counter()
        loss = episode_loss(env, policy)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        optimizer.step()
        if batch >= args.warmup:
            times.append(time.perf_counter() - start)
    print(f"reference W4: {1e3 * statistics.median(times):.1f} ms per batch (median of {len(times)}; "
          f"min {1e3 * min(times):.1f}, max {1e3 * max(times):.1f}), loss {loss.item():.4f}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")


if __name__ == "__main__":
    main()
