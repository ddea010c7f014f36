"""Skeletons (``motornet.skeleton``), as in MotorNet 0.2: the rigid-body dynamics a muscle pulls on.

A skeleton object names a skeleton of the C++ engine with its parameters; its equations run in C++.
"""

from __future__ import annotations


class Skeleton:
    """Base class of the skeletons.

    A subclass either names an engine skeleton (``engine_type``) or writes its own equations in PyTorch:
    ``_ode(inputs, joint_state, endpoint_load)`` returning the joint accelerations (batch, dof) from the
    generalized forces (``endpoint_load`` (batch, space_dim) or ``None``), ``_joint2cartesian(joint_state)``
    returning the fingertip's position and velocity (batch, 2 space_dim), and ``_path2cartesian(path_coordinates,
    path_fixation_body, joint_state)`` returning, for path points given by their local coordinates (space_dim,
    points) on bodies (points,), their world positions and velocities (batch, space_dim, points) and Jacobians
    d position / d q (batch, space_dim, dof, points); set ``n_bodies``. The engine integrates it and applies the
    bounds (SPEC §2.1: a ``_integrate`` of the reference is not used), op by op.

    Args:
      dof, space_dim: degrees of freedom and dimensions of the world.
      pos_lower_bound, pos_upper_bound, vel_lower_bound, vel_upper_bound: joint limits (a number for every joint,
        or one per joint); ``None`` keeps the skeleton's own.
    """

    #: The C++ engine's skeleton name (``effector.skeleton.type``).
    engine_type: str = ""
    #: Bodies path points may be fixed on (0 is the world), for a skeleton written in Python.
    n_bodies: int = 2

    def __init__(self, dof: int, space_dim: int, name: str = "skeleton", pos_lower_bound=None,
                 pos_upper_bound=None, vel_lower_bound=None, vel_upper_bound=None):
        self._python_equations = not self.engine_type and all(
            hasattr(type(self), m) for m in ("_ode", "_joint2cartesian", "_path2cartesian"))
        if not self.engine_type and not self._python_equations:
            raise TypeError(f"{type(self).__name__}: a skeleton names the engine's skeleton it runs (engine_type), "
                            "or writes its own equations: _ode, _joint2cartesian and _path2cartesian (see "
                            "motornet.skeleton.Skeleton)")
        self.dof = int(dof)
        self.space_dim = int(space_dim)
        self.state_dim = 2 * self.dof
        self.output_dim = 2 * self.space_dim
        self.__name__ = name
        self.bounds = {"pos_lower_bound": pos_lower_bound, "pos_upper_bound": pos_upper_bound,
                       "vel_lower_bound": vel_lower_bound, "vel_upper_bound": vel_upper_bound}
        self._options: dict = {}

    def engine_block(self) -> dict:
        """The ``skeleton`` block of the engine's effector configuration (a Python-written skeleton is
        registered with the engine on first use)."""
        if not self._python_equations:
            return {"type": self.engine_type, **self._options}
        if "_registered_type" not in self.__dict__:
            from . import _engine
            self._registered_type = f"python:{type(self).__name__}:{id(self):x}"
            _engine.register_python_skeleton(self._registered_type, self)
        return {"type": self._registered_type}

    def _engine_bounds(self) -> list:
        """[position lower, position upper, velocity lower, velocity upper], one value per dof (the reference's
        defaults: positions in [-1, 1], velocities in [-1000, 1000])."""
        defaults = {"pos_lower_bound": -1., "pos_upper_bound": 1., "vel_lower_bound": -1000.,
                    "vel_upper_bound": 1000.}
        out = []
        for key, fallback in defaults.items():
            value = self.bounds[key]
            values = [float(fallback)] if value is None else [float(v) for v in _as_list(value)]
            out.append(values * self.dof if len(values) == 1 else values)
        return out

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


def _as_list(value):
    try:
        return list(value)
    except TypeError:
        return [value]
