"""MotorNet's Python API (0.2) on the C++ engine.

Effectors, environments and policies as in the reference package (``motornet.muscle``, ``.skeleton``,
``.effector``, ``.environment``, ``.policy``, ``.plotor``), with the physics in C++: each step is one fused
autograd node, and gradients flow from a Python loss through it. ``train``/``load_run`` run and open whole
experiments as ``motornet-train`` does.
"""

from ._version import __version__, engine_version

engine = "cpp"

from . import muscle, skeleton, effector, environment, policy, plotor  # noqa: E402
from .runs import Run, load_run, train  # noqa: E402

__all__ = ["muscle", "skeleton", "effector", "environment", "policy", "plotor", "train", "load_run", "Run",
           "engine", "__version__", "engine_version"]
