"""The little of Gymnasium that the Python reference MotorNet 0.2 imports (its Env base class, Box spaces and a
seeded NumPy generator), for running the reference on a machine without Gymnasium (Debian does not package
it). Used by bench/reference_w4.py only when `import gymnasium` fails; not part of the motornet package."""
from . import spaces, utils


class Env:
    """The base class: the reference's environments only subclass it."""
    metadata = {}
