"""Effectors (``motornet.effector``), as in MotorNet 0.2: a skeleton, its muscles and the muscles' paths.

The effector's equations run in the C++ engine: each :meth:`Effector.step` is one fused autograd node (or the
engine's op-by-op path where a model has no fused kernel), so gradients flow from a Python loss through the
physics. States are the reference's dictionary: ``joint`` (batch, 2 dof), ``cartesian`` (batch, 2 space_dim),
``muscle`` (batch, muscle states, muscles), ``geometry`` (batch, 2 + dof, muscles) and ``fingertip``
(batch, space_dim).

Physics differs from the reference where the reference has one of the defects documented in SPEC §8 (the
corrected equations are the ones run here); see the project's README.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch

from . import _engine
from .muscle import CompliantTendonHillMuscle, Muscle
from .skeleton import PointMass, Skeleton, TwoDofArm

_STATE_KEYS = ("joint", "cartesian", "muscle", "geometry")


class Effector(torch.nn.Module):
    """A skeleton driven by muscles along straight paths between fixation points.

    Args:
      skeleton: a :class:`motornet.skeleton.Skeleton`.
      muscle: a :class:`motornet.muscle.Muscle`: the model of every muscle added with :meth:`add_muscle`.
      name: the effector's name.
      n_ministeps: integration steps per timestep (the action is held across them).
      timestep: seconds per step.
      integration_method: ``"euler"`` or ``"rk4"`` (also ``"rungekutta4"``, ``"runge-kutta4"``,
        ``"runge-kutta-4"``), in any case.
      damping: joint viscous damping.
      pos_lower_bound, pos_upper_bound, vel_lower_bound, vel_upper_bound: joint limits (a number for every
        joint or one per joint); ``None`` keeps the skeleton's.
    """

    def __init__(self, skeleton: Skeleton, muscle: Muscle, name: str = "Effector", n_ministeps: int = 1,
                 timestep: float = 0.01, integration_method: str = "euler", damping: float = 0.,
                 pos_lower_bound=None, pos_upper_bound=None, vel_lower_bound=None, vel_upper_bound=None):
        super().__init__()
        if not isinstance(skeleton, Skeleton):
            raise TypeError(f"skeleton must be a motornet.skeleton.Skeleton, got {type(skeleton).__name__}")
        if not isinstance(muscle, Muscle):
            raise TypeError(f"muscle must be a motornet.muscle.Muscle, got {type(muscle).__name__}")
        self.__name__ = name
        self.skeleton = skeleton
        self.muscle = muscle
        bounds = dict(skeleton.bounds)
        given = {"pos_lower_bound": pos_lower_bound, "pos_upper_bound": pos_upper_bound,
                 "vel_lower_bound": vel_lower_bound, "vel_upper_bound": vel_upper_bound}
        bounds.update({k: v for k, v in given.items() if v is not None})
        self._options = {"timestep": timestep, "n_ministeps": n_ministeps,
                         "integration_method": integration_method, "damping": damping}
        for key, value in bounds.items():
            if value is not None:
                self._options[key] = [float(v) for v in np.atleast_1d(np.asarray(value, dtype=float))]
        self._preset: str | None = None
        self._muscle_entries: list[dict] = []
        self._engine: _engine.Effector | None = None
        self._dtype = torch.float32
        self._generator = torch.Generator()
        self._generator.seed()
        self._np_random = None
        self.seed = None
        self.states: dict[str, torch.Tensor | None] = {k: None for k in (*_STATE_KEYS, "fingertip")}

    # -- construction -------------------------------------------------------------------------------------------
    def add_muscle(self, path_fixation_body: list, path_coordinates: list, name: str | None = None,
                   **kwargs) -> None:
        """Adds a muscle along the path through ``path_coordinates`` (one point per row, in the local frame of
        the body ``path_fixation_body`` names; body 0 is the world). ``kwargs`` are the muscle's parameters
        (``max_isometric_force``, ``tendon_length``, ...), as the muscle model requires them."""
        bodies = np.asarray(path_fixation_body).reshape(-1)
        coordinates = np.asarray(path_coordinates, dtype=float)
        if coordinates.ndim != 2 or coordinates.shape[1] != self.skeleton.space_dim:
            raise ValueError(f"path_coordinates must hold one point of {self.skeleton.space_dim} coordinates per "
                             f"row, got shape {coordinates.shape}")
        if coordinates.shape[0] != bodies.size:
            raise ValueError(f"path_coordinates has {coordinates.shape[0]} points but path_fixation_body "
                             f"specifies {bodies.size} points")
        required = [k for k in self.muscle.to_build_dict if k not in self.muscle.to_build_dict_default
                    and k not in self.muscle.shared_parameters]
        missing = [k for k in required if k not in kwargs]
        if missing:
            raise TypeError("Missing keyword argument " + ", ".join(missing) + ".")
        name = name if name is not None else f"muscle_{self.n_muscles + 1}"
        parameters = {}
        for key, value in kwargs.items():
            value = np.asarray(value, dtype=float).reshape(-1)
            if value.size != 1:
                raise ValueError(f"add_muscle: {key} must be one number for this muscle, got {value.size}")
            parameters[key] = float(value[0])
        entry = {"name": name, "fixation_body": [int(b) for b in bodies], "coordinates": coordinates.tolist(),
                 **parameters}
        if self._engine is None:  # the first muscle builds the engine's effector
            self._muscle_entries.append(entry)
            try:
                self._rebuild()
            except Exception:
                self._muscle_entries.pop()  # nothing half-added
                raise
        else:  # the engine checks the path and parameters before it changes anything
            self._engine.add_muscle(entry["fixation_body"], entry["coordinates"], name, parameters)
            self._muscle_entries.append(entry)
            self.muscle._bind(self._engine)

    def _engine_block(self) -> dict:
        muscle_block = {"type": self.muscle.engine_type_name(), **self.muscle.shared_parameters}
        if self._preset is not None:
            return {"preset": self._preset, "muscle": muscle_block, **self._options}
        return {"skeleton": self.skeleton.engine_block(), "muscle": muscle_block, "muscles": self._muscle_entries,
                **self._options}

    def _rebuild(self) -> None:
        engine = _engine.Effector.from_json(json.dumps({"effector": self._engine_block()}), "effector")
        if self._dtype != torch.float32:
            engine.to_dtype(_dtype_name(self._dtype))
        self._engine = engine
        self.muscle._bind(engine)

    @property
    def engine(self) -> _engine.Effector:
        if self._engine is None:
            raise RuntimeError(f"{self.__name__} has no muscles yet: call add_muscle first")
        return self._engine

    # -- the reference's attributes ----------------------------------------------------------------------------
    @property
    def n_muscles(self) -> int:
        return 0 if self._engine is None else self._engine.n_muscles

    @property
    def input_dim(self) -> int:
        return self.n_muscles

    @property
    def muscle_name(self) -> list[str]:
        return [] if self._engine is None else list(self._engine.muscle_names)

    @property
    def dof(self) -> int:
        return self.skeleton.dof

    @property
    def space_dim(self) -> int:
        return self.skeleton.space_dim

    @property
    def state_dim(self) -> int:
        return self.skeleton.state_dim

    @property
    def output_dim(self) -> int:
        return self.skeleton.output_dim

    @property
    def dt(self) -> float:
        return float(self._options["timestep"])

    @property
    def n_ministeps(self) -> int:
        return int(self._options["n_ministeps"])

    @property
    def minidt(self) -> float:
        return self.dt / self.n_ministeps

    @property
    def integration_method(self) -> str:
        return str(self._options["integration_method"]).casefold()

    @property
    def muscle_state_dim(self) -> int:
        return self.muscle.state_dim

    @property
    def geometry_state_dim(self) -> int:
        return 2 + self.dof

    @property
    def geometry_state_name(self) -> list[str]:
        return ["musculotendon length", "musculotendon velocity"] + [f"moment for joint {d}" for d in range(self.dof)]

    # joint limits, (dof,) tensors in the effector's dtype
    @property
    def pos_lower_bound(self) -> torch.Tensor:
        return torch.tensor(self.engine.position_bounds()[0], dtype=self._dtype)

    @property
    def pos_upper_bound(self) -> torch.Tensor:
        return torch.tensor(self.engine.position_bounds()[1], dtype=self._dtype)

    @property
    def vel_lower_bound(self) -> torch.Tensor:
        return torch.tensor(self.engine.velocity_bounds()[0], dtype=self._dtype)

    @property
    def vel_upper_bound(self) -> torch.Tensor:
        return torch.tensor(self.engine.velocity_bounds()[1], dtype=self._dtype)

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        return self._dtype

    @property
    def uses_fused_kernels(self) -> bool:
        """Whether steps run the engine's fused kernels (one autograd node per step)."""
        return self.engine.uses_fused_kernels

    @property
    def np_random(self) -> np.random.Generator:
        if self._np_random is None:
            self._np_random = np.random.default_rng(self.seed)
        return self._np_random

    @np_random.setter
    def np_random(self, rng: np.random.Generator) -> None:
        self._np_random = rng

    def to(self, *args, **kwargs):
        """``to(torch.float64)`` (or ``.double()``) runs the engine in double precision; devices other than the
        CPU are not available in this engine."""
        dtype = kwargs.get("dtype")
        device = kwargs.get("device")
        for arg in args:
            if isinstance(arg, torch.dtype):
                dtype = arg
            elif isinstance(arg, (str, torch.device)):
                device = arg
        if device is not None and torch.device(device).type != "cpu":
            raise ValueError(f"the C++ engine runs on the CPU; got device {device}")
        if dtype is not None:
            if dtype not in (torch.float32, torch.float64):
                raise TypeError(f"effector dtype must be torch.float32 or torch.float64, got {dtype}")
            self._dtype = dtype
            if self._engine is not None:
                self._engine.to_dtype(_dtype_name(dtype))
        return self

    def double(self):
        return self.to(torch.float64)

    def float(self):
        return self.to(torch.float32)

    # -- simulation ---------------------------------------------------------------------------------------------
    def _as_tensor(self, x, name: str) -> torch.Tensor | None:
        if torch.is_tensor(x):
            return x if x.dtype == self._dtype else x.to(self._dtype)
        if x is None:
            return None
        return torch.as_tensor(np.asarray(x), dtype=self._dtype)

    def _set_states(self, joint, cartesian, muscle, geometry) -> None:
        # a new dict (an episode's info dicts keep theirs), written past torch.nn.Module.__setattr__ (it costs
        # microseconds per step)
        self.__dict__["states"] = {"joint": joint, "cartesian": cartesian, "muscle": muscle, "geometry": geometry,
                                   "fingertip": cartesian[:, :self.space_dim]}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Sets consistent initial states. ``options``: ``batch_size`` (default 1) and ``joint_state`` (positions,
        or positions and velocities; one row for the whole batch or one per trial). Without a joint state the
        positions are drawn uniformly within the bounds, velocities zero."""
        if seed is not None:
            self.seed_generators(seed)
        options = {} if options is None else options
        batch_size = options.get("batch_size", 1)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        joint_state = self._as_tensor(options.get("joint_state"), "joint_state")
        if joint_state is not None:
            if joint_state.dim() == 1:
                joint_state = joint_state.reshape(1, -1)
            if joint_state.shape[0] > 1:
                batch_size = joint_state.shape[0]
        else:
            joint_state = self.draw_random_uniform_states(int(batch_size))
        self._set_states(*self.engine.reset(int(batch_size), joint_state))

    def seed_generators(self, seed: int) -> None:
        """Reseeds the random draws (initial states, and an environment's noise)."""
        self.seed = int(seed)
        self._generator.manual_seed(self.seed)
        self._np_random = np.random.default_rng(self.seed)

    def step(self, action, **kwargs) -> None:
        """Advances one timestep under ``action`` (batch, muscles); ``endpoint_load`` (batch, space_dim) and
        ``joint_load`` (batch, dof) are optional keyword arguments."""
        if self.states["joint"] is None:
            raise RuntimeError(f"{self.__name__}.step before reset")
        action = self._as_tensor(action, "action")
        endpoint_load = self._as_tensor(kwargs.get("endpoint_load"), "endpoint_load")
        joint_load = self._as_tensor(kwargs.get("joint_load"), "joint_load")
        s = self.states
        self._set_states(*self.engine.step(s["joint"], s["cartesian"], s["muscle"], s["geometry"], action,
                                           endpoint_load, joint_load))

    def draw_random_uniform_states(self, batch_size: int = 1) -> torch.Tensor:
        """Joint states (batch, 2 dof): positions uniform within the bounds, velocities zero."""
        lower, upper = (torch.tensor(b, dtype=self._dtype) for b in self.engine.position_bounds())
        u = torch.rand((batch_size, self.dof), generator=self._generator, dtype=self._dtype)
        return torch.cat([lower + (upper - lower) * u, torch.zeros_like(u)], dim=1)

    def get_geometry(self, joint_state: torch.Tensor) -> torch.Tensor:
        """Musculotendon lengths, velocities and moment arms (batch, 2 + dof, muscles) at ``joint_state``."""
        return self.engine.geometry(self._as_tensor(joint_state, "joint_state"))

    def joint2cartesian(self, joint_state: torch.Tensor) -> torch.Tensor:
        """Fingertip position and velocity (batch, 2 space_dim) at ``joint_state``."""
        return self.engine.joint_to_cartesian(self._as_tensor(joint_state, "joint_state"))

    def get_muscle_cfg(self) -> dict:
        """The muscles added with ``add_muscle``: per name, the fixation bodies, coordinates and parameters."""
        cfg = {}
        for entry in self._muscle_entries:
            entry = dict(entry)
            name = entry.pop("name")
            cfg[name] = {"n_fixation_points": len(entry["fixation_body"]),
                         "fixation body": entry.pop("fixation_body"), "coordinates": entry.pop("coordinates"),
                         **entry}
        return cfg or {"Placeholder Message": "No muscles were added using the `add_muscle` method."}

    def print_muscle_wrappings(self) -> None:
        """Prints ``get_muscle_cfg()`` one muscle at a time."""
        for name, params in self.get_muscle_cfg().items():
            if not isinstance(params, dict):
                print({name: params})
                continue
            print("MUSCLE NAME: " + name)
            print("-" * (13 + len(name)))
            for key, value in params.items():
                print(f"{key}: ", value)
            print("\n")

    def get_save_config(self) -> dict:
        return {"name": self.__name__, "engine": self._engine_block(), "skeleton": self.skeleton.get_save_config(),
                "muscle": self.muscle.get_save_config(), "dt": self.dt, "n_ministeps": self.n_ministeps,
                "integration_method": self.integration_method}


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")  # "float32", "float64": what the engine's to_dtype takes


def _preset_kwargs(kwargs: dict) -> dict:
    kwargs = dict(kwargs)
    kwargs.pop("name", None)
    return kwargs


def _check_default_skeleton(preset: str, skeleton) -> None:
    if skeleton is not None:
        raise ValueError(f"{preset}: a skeleton other than the preset's own is not supported by the C++ engine's "
                         "presets; build an Effector with add_muscle instead")


class ReluPointMass24(Effector):
    """A point mass in a 2 x 2 square pulled by four ReLU muscles from the corners (SPEC §6).

    With the default 1 kg mass it is the engine's preset; another ``mass`` builds the same four muscle paths on
    a point mass of that mass (``effector.preset`` is then absent from its configuration block)."""

    _CORNERS = (("UpperRight", (2.0, 2.0)), ("UpperLeft", (-2.0, 2.0)), ("LowerRight", (2.0, -2.0)),
                ("LowerLeft", (-2.0, -2.0)))

    def __init__(self, timestep: float = 0.01, max_isometric_force: float = 500, mass: float = 1, **kwargs):
        from .muscle import ReluMuscle
        mass = float(mass)
        if not mass > 0.0:
            raise ValueError(f"ReluPointMass24: mass must be positive, got {mass}")
        muscle = ReluMuscle()
        muscle.shared_parameters["max_isometric_force"] = float(max_isometric_force)
        Effector.__init__(self, PointMass(space_dim=2, mass=mass), muscle, name="ReluPointMass24",
                          timestep=timestep, **_preset_kwargs(kwargs))
        if mass == 1.0:
            self._preset = "ReluPointMass24"
            self._rebuild()
            return
        for name, corner in self._CORNERS:
            self.add_muscle(path_fixation_body=[0, 1], path_coordinates=[list(corner), [0.0, 0.0]], name=name)


class RigidTendonArm26(Effector):
    """The Nijhof & Kouwenhoven (2000) arm with six lumped muscles and polynomial moment arms (SPEC §6)."""

    def __init__(self, muscle: Muscle, skeleton=None, timestep: float = 0.01, muscle_kwargs: dict = {}, **kwargs):
        _check_default_skeleton("RigidTendonArm26", skeleton)
        self._init_preset("RigidTendonArm26", muscle, timestep, muscle_kwargs, kwargs)

    def _init_preset(self, preset, muscle, timestep, muscle_kwargs, kwargs):
        arm = TwoDofArm(m1=1.82, m2=1.43, l1g=0.135, l2g=0.165, i1=0.051, i2=0.057, l1=0.309, l2=0.333)
        Effector.__init__(self, arm, muscle, name=preset, timestep=timestep, **_preset_kwargs(kwargs))
        self._preset = preset
        for key, value in (muscle_kwargs or {}).items():
            muscle.shared_parameters[key] = float(value)
        self._rebuild()


class CompliantTendonArm26(RigidTendonArm26):
    """The arm26 preset with compliant-tendon Hill muscles (RK4, 0.2 ms steps by default)."""

    def __init__(self, timestep: float = 0.0002, skeleton=None, muscle_kwargs: dict = {}, **kwargs):
        _check_default_skeleton("CompliantTendonArm26", skeleton)
        kwargs.setdefault("integration_method", "rk4")
        self._init_preset("CompliantTendonArm26", CompliantTendonHillMuscle(), timestep, muscle_kwargs, kwargs)


class Reacher(Effector):
    """The arm26 skeleton driven by four torque generators (shoulder and elbow flexors and extensors)."""

    def __init__(self, muscle: Muscle, skeleton=None, timestep: float = 0.01, muscle_kwargs: dict = {}, **kwargs):
        _check_default_skeleton("Reacher", skeleton)
        RigidTendonArm26._init_preset(self, "Reacher", muscle, timestep, muscle_kwargs, kwargs)


class FreePointMass24(Effector):
    """A point mass in [-0.6, 0.6]² driven by four force generators along ±x and ±y."""

    def __init__(self, muscle: Muscle, skeleton=None, timestep: float = 0.01, muscle_kwargs: dict = {}, **kwargs):
        _check_default_skeleton("FreePointMass24", skeleton)
        Effector.__init__(self, PointMass(space_dim=2), muscle, name="FreePointMass24", timestep=timestep,
                          **_preset_kwargs(kwargs))
        self._preset = "FreePointMass24"
        for key, value in (muscle_kwargs or {}).items():
            muscle.shared_parameters[key] = float(value)
        self._rebuild()
