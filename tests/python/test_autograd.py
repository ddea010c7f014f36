"""Gradients from a Python loss through the C++ step (float64 against central finite differences), a custom
PyTorch loss training a policy, and Python subclasses of environments."""

import sys

import pytest
import torch

import motornet as mn
from conftest import repo_root


def arm_effector():
    return mn.effector.RigidTendonArm26(muscle=mn.muscle.RigidTendonHillMuscle()).to(torch.float64)


def rollout_loss(env, actions, joint0):
    """A user's loss: hand distance to the goal plus muscle force, over a few steps."""
    env.reset(options={"joint_state": joint0, "deterministic": True})
    env.goal = torch.tensor([[0.1, 0.45]], dtype=torch.float64).expand(joint0.shape[0], 2)
    loss = 0
    for t in range(actions.shape[0]):
        obs, *_ = env.step(actions[t], deterministic=True)
        force = env.states["muscle"][:, -1, :]
        loss = loss + (env.states["fingertip"] - env.goal).pow(2).sum() + 1e-6 * force.pow(2).sum() \
            + 0.1 * obs.pow(2).sum()
    return loss


@pytest.mark.parametrize("env_class", ["builtin", "python_senses"])
def test_gradients_through_the_step_match_finite_differences(env_class):
    class PythonSenses(mn.environment.Environment):
        def get_vision(self):  # overriding a sense takes the Python path
            return super().get_vision()

    cls = mn.environment.Environment if env_class == "builtin" else PythonSenses
    env = cls(arm_effector(), vision_delay=0.02)
    torch.manual_seed(0)
    actions = (0.1 + 0.3 * torch.rand(4, 2, 6, dtype=torch.float64)).requires_grad_(True)
    # non-zero start velocities: at rest a muscle's velocity is exactly 0, where its force-velocity curve
    # switches branch, and central differences would straddle the kink
    joint0 = torch.tensor([[0.7, 1.2, 0.05, -0.1], [0.9, 0.8, 0.1, -0.2]], dtype=torch.float64, requires_grad=True)
    loss = rollout_loss(env, actions, joint0)
    loss.backward()
    for tensor in (actions, joint0):
        flat = tensor.detach().reshape(-1)
        for i in range(0, flat.numel(), max(1, flat.numel() // 12)):
            h = 1e-6
            plus, minus = flat.clone(), flat.clone()
            plus[i] += h
            minus[i] -= h
            args = {id(actions): actions.detach(), id(joint0): joint0.detach()}
            args[id(tensor)] = plus.reshape(tensor.shape)
            up = rollout_loss(env, args[id(actions)], args[id(joint0)]).item()
            args[id(tensor)] = minus.reshape(tensor.shape)
            down = rollout_loss(env, args[id(actions)], args[id(joint0)]).item()
            numeric = (up - down) / (2 * h)
            assert tensor.grad.reshape(-1)[i].item() == pytest.approx(numeric, rel=1e-5, abs=1e-7)


def test_fused_and_python_senses_give_the_same_episode():
    class PythonSenses(mn.environment.RandomTargetReach):
        def get_proprioception(self):
            return super().get_proprioception()

    results = []
    for cls in (mn.environment.RandomTargetReach, PythonSenses):
        env = cls(mn.effector.RigidTendonArm26(muscle=mn.muscle.RigidTendonHillMuscle()), vision_delay=0.05,
                  proprioception_delay=0.02, action_frame_stacking=1)
        obs, _ = env.reset(seed=5, options={"batch_size": 4})
        out = [obs]
        for t in range(8):
            out.append(env.step(torch.full((4, 6), 0.05 * t))[0])
        results.append(torch.cat(out))
    assert torch.allclose(results[0], results[1], atol=1e-6)


def test_a_python_task_subclass_sets_its_own_goal_and_step():
    class CentreReach(mn.environment.Environment):
        """Reach to a fixed target from a fixed start; a time-varying goal in step."""

        def reset(self, *, seed=None, options=None):
            options = dict(options or {})
            options["joint_state"] = torch.tensor([[0.0, 0.0, 0.0, 0.0]])
            obs, info = super().reset(seed=seed, options=options)
            self.goal = torch.tensor([[0.5, 0.0]]).expand(obs.shape[0], 2)
            return self.get_obs(deterministic=True), info

        def step(self, action, **kwargs):
            if self.elapsed >= 0.05:
                self.goal = torch.tensor([[0.0, 0.5]]).expand(action.shape[0], 2)
            return super().step(action, **kwargs)

    env = CentreReach(mn.effector.ReluPointMass24(), max_ep_duration=0.1)
    obs, _ = env.reset(options={"batch_size": 3})
    assert torch.equal(obs[:, :2], torch.tensor([[0.5, 0.0]] * 3))
    for _ in range(10):
        obs, *_ = env.step(torch.zeros(3, 4))
    assert torch.equal(obs[:, :2], torch.tensor([[0.0, 0.5]] * 3))


def test_a_custom_loss_trains_the_reference_tutorial_loop():
    """The reference tutorial's loop (bench/python_tutorial.py, a custom L1 loss in PyTorch) learns."""
    sys.path.insert(0, str(repo_root() / "bench"))
    from python_tutorial import tutorial_batch
    torch.manual_seed(0)
    env = mn.environment.RandomTargetReach(effector=mn.effector.ReluPointMass24(), max_ep_duration=0.5)
    policy = mn.policy.PolicyGRU(env.observation_space.shape[0], 32, env.n_muscles)
    optimizer = torch.optim.Adam(policy.parameters(), lr=3e-3)
    losses = [tutorial_batch(env, policy, optimizer, 32) for _ in range(60)]
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in policy.parameters())
    assert sum(losses[-10:]) < 0.8 * sum(losses[:10])
