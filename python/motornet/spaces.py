"""Gymnasium's ``Env`` and ``spaces.Box`` when Gymnasium is installed; otherwise minimal stand-ins with the same
interface (Gymnasium is not a Debian package): ``Box(low, high, shape, dtype)`` with ``shape``, ``dtype``,
``sample()``, ``seed()`` and ``contains()``, and an ``Env`` base with ``np_random``, ``metadata`` and
``unwrapped``."""

from __future__ import annotations

import numpy as np

try:  # pragma: no cover - depends on the machine
    import gymnasium as _gymnasium
except ImportError:  # the stand-ins below
    _gymnasium = None

HAVE_GYMNASIUM = _gymnasium is not None


class _Box:
    """A box in R^n: ``low <= x <= high`` elementwise."""

    def __init__(self, low, high, shape=None, dtype=np.float32, seed=None):
        self.dtype = np.dtype(dtype)
        if shape is None:
            shape = np.shape(low) if np.ndim(low) else np.shape(high)
        self.shape = tuple(int(n) for n in shape)
        self.low = np.broadcast_to(np.asarray(low, dtype=self.dtype), self.shape).copy()
        self.high = np.broadcast_to(np.asarray(high, dtype=self.dtype), self.shape).copy()
        if np.any(self.low > self.high):
            raise ValueError("Box: low must not exceed high")
        self._rng = np.random.default_rng(seed)

    def seed(self, seed=None):
        self._rng = np.random.default_rng(seed)
        return [seed]

    def sample(self):
        low = np.where(np.isfinite(self.low), self.low, -1.0)
        high = np.where(np.isfinite(self.high), self.high, 1.0)
        bounded = np.isfinite(self.low) & np.isfinite(self.high)
        x = np.where(bounded, self._rng.uniform(low, high, self.shape), self._rng.normal(size=self.shape))
        x = np.where(np.isfinite(self.low) & ~np.isfinite(self.high), self.low + self._rng.exponential(size=self.shape), x)
        x = np.where(~np.isfinite(self.low) & np.isfinite(self.high), self.high - self._rng.exponential(size=self.shape), x)
        return x.astype(self.dtype)

    def contains(self, x) -> bool:
        x = np.asarray(x)
        return x.shape == self.shape and bool(np.all(x >= self.low) and np.all(x <= self.high))

    __contains__ = contains

    def __repr__(self):
        return f"Box({self.low.min()}, {self.high.max()}, {self.shape}, {self.dtype})"


class _Env:
    """What the environments use of ``gymnasium.Env``."""
    metadata: dict = {"render_modes": []}
    render_mode = None
    spec = None

    @property
    def unwrapped(self):
        return self

    def close(self):
        pass


if HAVE_GYMNASIUM:  # pragma: no cover
    Env = _gymnasium.Env
    Box = _gymnasium.spaces.Box
else:
    Env = _Env
    Box = _Box
