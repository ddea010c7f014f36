"""train/load_run end to end: an experiment trained from Python, its run directory opened, its policy driving
the configured environment; bad configurations raising ValueError with the engine's message."""

import json

import pytest
import torch

import motornet as mn
from conftest import repo_root


def tutorial_config():
    import yaml
    with open(repo_root() / "configs" / "tutorial_pointmass.yaml") as f:
        config = yaml.safe_load(f)
    config["training"].update({"n_batches": 6, "validation_every": 3, "checkpoint_every": 3})
    return config


def test_train_and_load_run_end_to_end(tmp_path):
    run = mn.train(tutorial_config(), out=tmp_path / "run", overrides=["training.batch_size=8"])
    assert run.directory == tmp_path / "run"
    assert run.config["training"]["batch_size"] == 8
    assert len(run.metrics) >= 1 and "loss" in run.metrics[-1]
    assert "evaluation" in json.dumps(run.summary) or run.summary
    reopened = mn.load_run(tmp_path / "run")
    env = reopened.environment()
    obs, info = env.reset(seed=0, options={"batch_size": 4, "deterministic": True})
    assert obs.shape == (4, env.observation_space.shape[0])
    policy = reopened.policy
    h = torch.zeros(4, reopened.config["policy"]["hidden_size"])  # policy.pt's state: (batch, hidden)
    terminated = False
    steps = 0
    with torch.no_grad():
        while not terminated:
            out = policy(obs, h)
            action, h = out[0], out[1]
            obs, reward, terminated, truncated, info = env.step(action)
            steps += 1
    assert steps == env.max_ep_steps
    rollout = reopened.rollout()
    assert rollout["joint"].ndim == 3

    # The run's figures and a trajectory plot drawn from its rollout file.
    assert reopened.figures and all(path.is_file() for path in reopened.figures.values())
    import matplotlib
    matplotlib.use("Agg")
    axis = reopened.plot_trajectories(trials=[0, 1])
    from matplotlib.collections import LineCollection
    paths = [c for c in axis.collections if isinstance(c, LineCollection)]
    steps = reopened.rollout()["cartesian"].shape[1] - 1
    assert len(paths) == 1 and len(paths[0].get_segments()) == 2 * steps, "two trials' paths, a segment per step"
    axis.figure.savefig(tmp_path / "trajectories.png")
    assert (tmp_path / "trajectories.png").stat().st_size > 0


def test_bad_configurations_raise_value_error_naming_the_key(tmp_path):
    config = tutorial_config()
    config["training"]["batch_sise"] = 3
    with pytest.raises(ValueError, match="batch_sise"):
        mn.train(config, out=tmp_path / "bad")
    with pytest.raises(ValueError, match="no such run directory"):
        mn.load_run(tmp_path / "nowhere")
    with pytest.raises(TypeError):
        mn.train(42)


def test_environment_from_config_runs_a_configured_task():
    config = tutorial_config()
    config["environment"]["task"] = {"type": "CentreOutReach", "n_targets": 8, "radius": 0.1}
    env = mn.environment.Environment.from_config(config)
    obs, info = env.reset(options={"batch_size": 8, "evaluation": True})
    assert obs.shape[0] == 8
    obs, reward, terminated, truncated, info = env.step(torch.zeros(8, env.n_muscles))
    assert info["states"]["joint"].shape[0] == 8
