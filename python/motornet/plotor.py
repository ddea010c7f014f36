"""Plots of trajectories and arm movements (``motornet.plotor``), as in MotorNet 0.2 (matplotlib)."""

from __future__ import annotations

import numpy as np


def compute_limits(data, margin: float = 0.1):
    """(lower, upper) axis limits: the data's range widened by ``margin`` times that range on each side."""
    data = np.asarray(data)
    pad = (np.max(data) - np.min(data)) * margin
    return np.min(data) - pad, np.max(data) + pad


def _colored_segments(axis, segments: np.ndarray, n_colors: int, cmap="viridis", linewidth: float = 1):
    """Adds line segments (n, 2, 2) coloured by time step (segment i gets colour i mod n_colors) and a colour
    bar labelled with the time step."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    lines = LineCollection(segments, cmap=cmap, norm=plt.Normalize(0, max(n_colors, 1)))
    lines.set_array(np.arange(segments.shape[0]) % max(n_colors, 1))
    lines.set_linewidth(linewidth)
    axis.add_collection(lines)
    axis.get_figure().colorbar(lines, ax=axis).set_label("timestep")
    return lines


def plot_pos_over_time(cart_results, axis, cmap="viridis"):
    """Draws trajectories (batch, time, 2), each step's segment coloured from dark (early) to light (late)."""
    xy = np.asarray(cart_results)[..., :2]
    if xy.ndim != 3:
        raise ValueError(f"cart_results must be (batch, time, dims), got shape {np.shape(cart_results)}")
    # segment (b, t) runs from xy[b, t] to xy[b, t + 1]; ordered time-major so that colours follow time
    segments = np.stack([xy[:, :-1], xy[:, 1:]], axis=2).transpose(1, 0, 2, 3).reshape(-1, 2, 2)
    batch = xy.shape[0]
    _colored_segments(axis, segments, n_colors=xy.shape[1] - 1, cmap=cmap).set_array(
        np.repeat(np.arange(xy.shape[1] - 1), batch))
    axis.set_xlabel("cartesian x")
    axis.set_ylabel("cartesian y")
    axis.set_aspect("equal", adjustable="box")
    axis.autoscale()
    axis.margins(0.05)


def plot_2dof_arm_over_time(axis, arm, joint_state, cmap: str = "viridis", linewidth: int = 1):
    """Draws a two-joint arm (``arm.L1``, ``arm.L2``) at every step of one trajectory ``joint_state``
    (1, time, 4): upper arms then forearms, coloured from dark (early) to light (late)."""
    joints = np.asarray(joint_state)
    if joints.ndim != 3 or joints.shape[0] != 1:
        raise ValueError(f"joint_state must hold one trajectory (1, time, 4), got shape {joints.shape}")
    shoulder, elbow = joints[0, :, 0], joints[0, :, 1]
    elbow_xy = np.stack([arm.L1 * np.cos(shoulder), arm.L1 * np.sin(shoulder)], axis=1)
    hand_xy = elbow_xy + np.stack([arm.L2 * np.cos(shoulder + elbow), arm.L2 * np.sin(shoulder + elbow)], axis=1)
    upper = np.stack([np.zeros_like(elbow_xy), elbow_xy], axis=1)
    lower = np.stack([elbow_xy, hand_xy], axis=1)
    segments = np.concatenate([upper, lower], axis=0)
    _colored_segments(axis, segments, n_colors=joints.shape[1], cmap=cmap, linewidth=linewidth)
    axis.set_xlim(compute_limits(segments[:, :, 0]))
    axis.set_ylim(compute_limits(segments[:, :, 1]))
    axis.set_xlabel("cartesian x")
    axis.set_ylabel("cartesian y")
    axis.set_aspect("equal", adjustable="box")
