"""Skeletons (``motornet.skeleton``), as in MotorNet 0.2: the rigid-body dynamics a muscle pulls on.

A skeleton object names a skeleton of the C++ engine with its parameters; its equations run in C++.
"""

from __future__ import annotations


class Skeleton:
    """Base class of the skeletons.

    Args:
      dof, space_dim: degrees of freedom and dimensions of the world.
      pos_lower_bound, pos_upper_bound, vel_lower_bound, vel_upper_bound: joint limits (a number for every joint,
        or one per joint); ``None`` keeps the skeleton's own.
    """

    #: The C++ engine's skeleton name (``effector.skeleton.type``).
    engine_type: str = ""

    def __init__(self, dof: int, space_dim: int, name: str = "skeleton", pos_lower_bound=None,
                 pos_upper_bound=None, vel_lower_bound=None, vel_upper_bound=None):
        if not self.engine_type:
            raise TypeError(f"{type(self).__name__}: a skeleton needs engine_type, the C++ skeleton it runs; "
                            "custom Python skeleton equations are not supported yet")
        self.dof = int(dof)
        self.space_dim = int(space_dim)
        self.state_dim = 2 * self.dof
        self.output_dim = 2 * self.space_dim
        self.__name__ = name
        self.bounds = {"pos_lower_bound": pos_lower_bound, "pos_upper_bound": pos_upper_bound,
                       "vel_lower_bound": vel_lower_bound, "vel_upper_bound": vel_upper_bound}
        self._options: dict = {}

    def engine_block(self) -> dict:
        """The ``skeleton`` block of the engine's effector configuration."""
        return {"type": self.engine_type, **self._options}

    def get_save_config(self) -> dict:
        return {"name": self.__name__, "dof": self.dof, "space_dim": self.space_dim, **self._options}


class PointMass(Skeleton):
    """A point mass moving freely in ``space_dim`` dimensions (SPEC §3.1)."""
    engine_type = "PointMass"

    def __init__(self, space_dim: int = 2, mass: float = 1., name: str = "point_mass", **kwargs):
        super().__init__(dof=space_dim, space_dim=space_dim, name=name, **kwargs)
        self.mass = float(mass)
        self._options = {"space_dim": int(space_dim), "mass": self.mass}


class TwoDofArm(Skeleton):
    """A planar two-joint arm, shoulder and elbow (SPEC §3.2). Parameters as in the reference."""
    engine_type = "TwoDofArm"

    def __init__(self, name: str = "two_dof_arm", m1: float = 1.864572, m2: float = 1.534315,
                 l1g: float = 0.180496, l2g: float = 0.181479, i1: float = 0.013193, i2: float = 0.020062,
                 l1: float = 0.309, l2: float = 0.26, viscosity: float = 0., **kwargs):
        super().__init__(dof=2, space_dim=2, name=name, **kwargs)
        self._options = {"m1": m1, "m2": m2, "l1g": l1g, "l2g": l2g, "i1": i1, "i2": i2, "l1": l1, "l2": l2,
                         "viscosity": viscosity}
        for key, value in self._options.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"TwoDofArm: {key} must be a number, got {type(value).__name__}")
            setattr(self, key, float(value))
        self.L1, self.L2 = self.l1, self.l2  # the reference's names, used by plotor
