"""The golden cases of tests/data/golden reproduced through the Python API (float32 and float64), with the
README's tolerances: trajectories, the objective and its gradients with respect to the actions and the initial
joint state, and the environment cases' observations."""

import json

import numpy as np
import pytest
import torch

import motornet as mn
from conftest import DATA
from scenario import effector_from_block

CASES = sorted(p for p in (DATA / "golden").glob("*.json"))
EFFECTOR_CASES = [p for p in CASES if not p.stem.startswith("env_")]
ENV_CASES = [p for p in CASES if p.stem.startswith("env_")]


def tolerance(dtype, key):
    if dtype == torch.float64:
        return 1e-8, 1e-8
    if key == "muscle":
        return 1e-3, 1e-4
    if key in ("objective", "grad_actions", "grad_initial_joint"):
        return 1e-3, 1e-3
    return 1e-4, 1e-4


def assert_close(actual, expected, dtype, key):
    absolute, relative = tolerance(dtype, key)
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, key
    excess = np.abs(actual - expected) - (absolute + relative * np.abs(expected))
    worst = np.unravel_index(np.argmax(excess), excess.shape) if excess.size else ()
    assert np.all(excess <= 0), f"{key}: worst at {worst}: {actual[worst]} vs {expected[worst]}"


def load(case, dtype):
    """(scenario, the expected figures in this dtype, the scenario's effector built through the Python API)."""
    data = json.loads(case.read_text())
    expected = data["expected"] if dtype == torch.float32 else data["expected_float64"]
    return data["scenario"], expected, effector_from_block(data["scenario"]["effector"]).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", EFFECTOR_CASES, ids=[p.stem for p in EFFECTOR_CASES])
def test_effector_golden(case, dtype):
    scenario, expected, effector = load(case, dtype)
    assert effector.uses_fused_kernels
    joint0 = torch.tensor([scenario["initial_joint_state"]], dtype=dtype, requires_grad=True)
    actions = torch.tensor(scenario["actions"], dtype=dtype, requires_grad=True)
    loads = {}
    if "endpoint_load" in scenario:
        loads["endpoint_load"] = torch.tensor([scenario["endpoint_load"]], dtype=dtype)
    if "joint_load" in scenario:
        loads["joint_load"] = torch.tensor([scenario["joint_load"]], dtype=dtype)
    weights = torch.tensor(scenario["objective"]["fingertip_weights"], dtype=dtype)

    effector.reset(options={"joint_state": joint0})
    series = {k: [effector.states[k]] for k in ("joint", "cartesian", "muscle", "geometry")}
    objective = 0
    for t in range(actions.shape[0]):
        effector.step(actions[t:t + 1], **loads)
        for k in series:
            series[k].append(effector.states[k])
        objective = objective + (effector.states["fingertip"][0] * weights).sum()
    objective.backward()

    assert effector.muscle.state_name == expected["muscle_state_names"]
    for k in series:
        assert_close(torch.cat(series[k]).detach(), expected[k], dtype, k)
    assert_close(objective.detach(), expected["objective"], dtype, "objective")
    assert_close(actions.grad, expected["grad_actions"], dtype, "grad_actions")
    assert_close(joint0.grad[0], expected["grad_initial_joint"], dtype, "grad_initial_joint")


class GoalAt(mn.environment.Environment):
    """The README's environment cases: reset at the initial joint state, the goal replaced by a fixed one."""

    def __init__(self, effector, goal, **kwargs):
        super().__init__(effector, **kwargs)
        self.fixed_goal = goal

    def reset(self, *, seed=None, options=None):
        obs, info = super().reset(seed=seed, options=options)
        self.goal = torch.tensor([self.fixed_goal], dtype=self.effector.dtype)
        return torch.cat([self.goal, obs[:, self.space_dim:]], dim=-1), info


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", ENV_CASES, ids=[p.stem for p in ENV_CASES])
def test_environment_golden(case, dtype):
    scenario, expected, effector = load(case, dtype)
    env = GoalAt(effector, scenario["goal"], **scenario["environment"])
    obs, _ = env.reset(options={"joint_state": torch.tensor([scenario["initial_joint_state"]], dtype=dtype),
                                "deterministic": True})
    observations, fingertips = [obs], [env.states["fingertip"]]
    terminated = False
    for action in scenario["actions"]:
        obs, _, terminated, _, _ = env.step(torch.tensor([action], dtype=dtype), deterministic=True)
        observations.append(obs)
        fingertips.append(env.states["fingertip"])
    assert_close(torch.cat(observations), expected["observation"], dtype, "observation")
    assert_close(torch.cat(fingertips), expected["fingertip"], dtype, "fingertip")
    assert terminated == expected["terminated_at_last_step"]
