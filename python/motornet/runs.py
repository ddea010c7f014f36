"""Whole experiments from Python: ``train`` runs an experiment file (or dict) exactly as ``motornet-train``
does, and ``load_run`` opens a run directory (its configuration, trained policy, summaries, rollouts and an
environment with the run's task)."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from . import _engine


class Run:
    """A run directory written by ``motornet-train`` (or :func:`train`)."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise ValueError(f"{self.directory}: no such run directory")
        self.config_file = Path(_engine.saved_configuration_file(str(self.directory)))
        import yaml  # Debian's python3-yaml
        with open(self.config_file) as f:
            self.config: dict = yaml.safe_load(f)

    @property
    def policy(self) -> torch.jit.ScriptModule:
        """The trained policy (policy.pt, TorchScript): ``u, h = policy(obs, h)``."""
        path = self.directory / "policy.pt"
        if not path.exists():
            raise ValueError(f"{path}: the run has no trained policy yet")
        return torch.jit.load(str(path))

    @property
    def summary(self) -> dict:
        with open(self.directory / "summary.json") as f:
            return json.load(f)

    @property
    def metrics(self) -> list[dict[str, Any]]:
        """metrics.csv, one dict per logged batch (numbers as floats)."""
        with open(self.directory / "metrics.csv") as f:
            rows = list(csv.DictReader(f))
        return [{k: _number_or_text(v) for k, v in row.items()} for row in rows]

    def rollout(self, name: str = "eval/rollout.h5") -> dict:
        """A rollout file of the run (default: the end-of-run evaluation's) as NumPy arrays by dataset name, groups
        as nested dicts and attributes under "attributes" (h5py)."""
        import h5py

        def read(group):
            out = {key: read(item) if isinstance(item, h5py.Group) else item[()] for key, item in group.items()}
            if group.attrs:
                out["attributes"] = dict(group.attrs)
            return out

        path = self.directory / name
        if not path.exists():
            raise ValueError(f"{path}: no such rollout file")
        with h5py.File(path, "r") as f:
            return read(f)

    @property
    def figures(self) -> dict[str, Path]:
        """The figures the run wrote (PNG and SVG, in the run and its evaluations), by path relative to the run."""
        found = sorted(p for pattern in ("*.png", "*.svg") for p in self.directory.rglob(pattern))
        return {str(p.relative_to(self.directory)): p for p in found}

    def plot_trajectories(self, axis=None, name: str = "eval/rollout.h5", trials=None, cmap: str = "viridis"):
        """Draws the fingertip paths of a rollout file (default: the end-of-run evaluation's) over time, with each
        trial's target, on a matplotlib ``axis`` (default: a new figure's). ``trials``: indices to draw (all).
        Returns the axis."""
        from . import plotor
        rollout = self.rollout(name)
        space_dim = rollout["goal"].shape[-1]
        if space_dim != 2:
            raise ValueError(f"{name}: plot_trajectories draws planar effectors, this one has {space_dim} axes")
        fingertip = rollout["cartesian"][..., :space_dim]
        target = rollout["trials"]["target"] if "trials" in rollout else rollout["goal"][:, -1]
        if trials is not None:
            fingertip, target = fingertip[trials], target[trials]
        if axis is None:
            import matplotlib.pyplot as plt
            axis = plt.figure().add_subplot()
        plotor.plot_pos_over_time(fingertip, axis=axis, cmap=cmap)
        axis.scatter(target[:, 0], target[:, 1], marker="x", color="k", zorder=3, label="target")
        axis.set_aspect("equal")
        axis.set_xlabel("x (m)")
        axis.set_ylabel("y (m)")
        return axis

    def environment(self):
        """An environment with the run's effector, senses and task (:class:`TaskEnvironment`)."""
        from .environment import TaskEnvironment
        return TaskEnvironment.from_config(self.config)

    def __repr__(self):
        return f"Run('{self.directory}')"


def _number_or_text(value: str):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def train(config: dict | str | os.PathLike, out: str | os.PathLike | None = None, overrides=(),
          quiet: bool = True) -> Run:
    """Trains an experiment (an experiment file's path, or the same content as a dict) into ``out`` (default:
    a new ``runs/<name>-<date>-<time>``), as ``motornet-train`` would; ``overrides`` are ``"key.path=value"``
    strings. Returns the :class:`Run`. Bad configurations raise ``ValueError`` naming the key."""
    overrides = [str(o) for o in overrides]
    if isinstance(config, dict):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "python_experiment.yaml"
            path.write_text(json.dumps(config))  # JSON is YAML
            directory = _engine.train(str(path), overrides, "" if out is None else str(out), quiet)
    elif isinstance(config, (str, os.PathLike)):
        directory = _engine.train(str(config), overrides, "" if out is None else str(out), quiet)
    else:
        raise TypeError(f"config must be a dict or a path, got {type(config).__name__}")
    return Run(directory)


def load_run(run_directory: str | os.PathLike) -> Run:
    """Opens a run directory: ``run.config``, ``run.policy``, ``run.summary``, ``run.metrics``,
    ``run.rollout()``, ``run.figures``, ``run.plot_trajectories()``, ``run.environment()``."""
    return Run(run_directory)
