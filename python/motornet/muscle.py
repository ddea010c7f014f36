"""Muscle models (``motornet.muscle``), as in MotorNet 0.2.

A muscle object names a model of the C++ engine and holds the model-wide parameters given to its constructor.
The per-muscle parameters (``max_isometric_force``, ``tendon_length``, ...) come with each
:meth:`motornet.effector.Effector.add_muscle` call, as in the reference. Once an effector is built the muscle's
buffers (``max_iso_force``, ``l0_ce``, ``l0_se``, ``l0_pe``, ``vmax``; shape ``(1, 1, n_muscles)``) are read from the
engine, and the model's equations run in C++ (fused, one autograd node per step).
"""

from __future__ import annotations

import torch


class Muscle:
    """Base class of the muscle models.

    A subclass either names an engine model (``engine_type``; its equations run fused in C++) or writes its own
    equations in PyTorch, as in the reference: set ``self.state_name`` (first "activation", one "force"; "muscle
    length" and "muscle velocity" feed proprioception) and ``self.to_build_dict``/``to_build_dict_default`` (the
    per-muscle parameters ``add_muscle`` takes) in ``__init__``, and define ``_integrate(dt, state_derivative,
    muscle_state, geometry_state)`` returning the new state (batch, states, muscles); optionally ``_ode(action,
    muscle_state)`` (default: the engine's activation dynamics) and ``_proprioception_scales(n_muscles)``. Read
    parameters with ``self.parameter(name)`` or the reference's buffers (``self.max_iso_force``, ...), and clip
    with ``self.clip_activation``. Such a model is stepped op by op, through autograd, like a C++ model without
    a fused kernel.

    Args:
      min_activation, tau_activation, tau_deactivation: activation dynamics (Thelen 2003), as in the reference.
      **kwargs: further model-wide parameters of the model (each muscle may override them in ``add_muscle``).
    """

    #: The C++ engine's model name (``motornet-train``'s ``effector.muscle.type``).
    engine_type: str = ""
    #: Per-muscle parameters ``add_muscle`` expects, with the defaults of those that have one.
    to_build_dict_default: dict = {}
    _required_build_keys: tuple = ("max_isometric_force",)

    #: Rows of the muscle's derivative (``ode``): 1 (activation), or more for a model integrating more states.
    n_derivatives: int = 1

    def __init__(self, min_activation: float | None = None, tau_activation: float | None = None,
                 tau_deactivation: float | None = None, **kwargs):
        self._python_equations = not self.engine_type and hasattr(type(self), "_integrate")
        if not self.engine_type and not self._python_equations:
            raise TypeError(
                f"{type(self).__name__}: a muscle model names the engine's model it runs (engine_type, one of "
                f"{', '.join(_engine().muscle_types())}), or writes its own equations: `_integrate` (and "
                "optionally `_ode`), see motornet.muscle.Muscle")
        self._default_min_activation = 0.0 if min_activation is None else float(min_activation)
        given = {"min_activation": min_activation, "tau_activation": tau_activation,
                 "tau_deactivation": tau_deactivation, **kwargs}
        self.shared_parameters = {k: _number(k, v) for k, v in given.items() if v is not None}
        self.__name__ = type(self).__name__
        self.state_name: list[str] = []
        self.input_dim = 1
        self.output_dim = 1
        self.dt = None
        self.n_muscles = None
        self.built = False
        self._effector = None  # the C++ effector this muscle was built into

    @property
    def state_dim(self) -> int:
        return len(self.state_name)

    @property
    def to_build_dict(self) -> dict:
        """The per-muscle parameters ``add_muscle`` takes (a subclass may assign its own, as in the reference)."""
        if "_to_build_dict" in self.__dict__:
            return {k: [] for k in self.__dict__["_to_build_dict"]}
        keys = list(self._required_build_keys) + [k for k in self.to_build_dict_default
                                                  if k not in self._required_build_keys]
        return {k: [] for k in keys}

    @to_build_dict.setter
    def to_build_dict(self, value: dict) -> None:
        self.__dict__["_to_build_dict"] = list(value)

    # -- a muscle written in Python (see the class docstring) ---------------------------------------------------
    def engine_type_name(self) -> str:
        """The name the engine knows this model by; a Python-written model is registered on first use."""
        if not self._python_equations:
            return self.engine_type
        if "_registered_type" not in self.__dict__:
            self._registered_type = f"python:{type(self).__name__}:{id(self):x}"
            _engine().register_python_muscle(self._registered_type, self)
        return self._registered_type

    def _has_python_ode(self) -> bool:
        return hasattr(type(self), "_ode")

    def _parameter_defaults(self) -> list:
        """(name, default or None) of the per-muscle parameters besides the activation dynamics'."""
        activation = {"min_activation", "tau_activation", "tau_deactivation"}
        defaults = self.to_build_dict_default
        return [(k, defaults.get(k)) for k in self.to_build_dict if k not in activation]

    def _proprioception_scales(self, n_muscles: int):
        """(length scale, velocity scale) that normalise proprioception, each (n_muscles,) or one number; a
        Python-written model overrides this (default: 1 and 1)."""
        return torch.ones(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)

    def parameter(self, name: str) -> torch.Tensor:
        """A per-muscle parameter as a (1, 1, n_muscles) tensor in the effector's dtype."""
        return self._parameter(name)

    def _bind(self, engine_effector) -> None:
        """Called by the effector once it is built: buffers and names now come from the engine."""
        self._effector = engine_effector
        self.state_name = list(engine_effector.muscle_state_names)
        self.n_muscles = engine_effector.n_muscles
        self.dt = engine_effector.timestep / engine_effector.n_ministeps
        self.built = True

    def _engine_effector(self, what: str):
        """The engine's effector this muscle is built into; AttributeError naming ``what`` before that."""
        if self._effector is None:
            raise AttributeError(f"{self.__name__}.{what}: the muscle is not built yet (add it to an effector)")
        return self._effector

    def _parameter(self, name: str) -> torch.Tensor:
        return self._engine_effector(name).muscle_parameter(name).reshape(1, 1, -1)

    # The reference's buffers, shaped (1, 1, n_muscles).
    @property
    def max_iso_force(self) -> torch.Tensor:
        return self._parameter("max_isometric_force")

    @property
    def l0_ce(self) -> torch.Tensor:
        """Normalising muscle length of proprioception (the optimal fibre length for Hill models)."""
        return self._engine_effector("l0_ce").proprioception_scales()[0].reshape(1, 1, -1)

    @property
    def vmax(self) -> torch.Tensor:
        """Normalising muscle velocity of proprioception."""
        return self._engine_effector("vmax").proprioception_scales()[1].reshape(1, 1, -1)

    @property
    def l0_se(self) -> torch.Tensor:
        return self._parameter("tendon_length")

    @property
    def min_activation(self) -> torch.Tensor:
        return self._parameter("min_activation")

    @property
    def tau_activation(self) -> torch.Tensor:
        return self._parameter("tau_activation")

    @property
    def tau_deactivation(self) -> torch.Tensor:
        return self._parameter("tau_deactivation")

    # The model's equations, one at a time (the effector's step runs them all fused).
    def _as_state(self, x) -> torch.Tensor:
        dtype = self.max_iso_force.dtype
        return x.to(dtype) if torch.is_tensor(x) else torch.as_tensor(x, dtype=dtype)

    def ode(self, action: torch.Tensor, muscle_state: torch.Tensor) -> torch.Tensor:
        """d(state)/dt of the integrated states (batch, 1 or 2, muscles) for ``action`` (a number, (muscles,),
        (batch, muscles) or (batch, 1, muscles))."""
        engine = self._engine_effector("ode")
        muscle_state = self._as_state(muscle_state)
        batch, muscles = muscle_state.shape[0], muscle_state.shape[-1]
        action = self._as_state(action)
        excitation = action.reshape(1, 1) if action.numel() == 1 else action.reshape(-1, muscles)
        return engine.muscle_ode(excitation.expand(batch, muscles).contiguous(), muscle_state)

    def integrate(self, dt: float, state_derivative: torch.Tensor, muscle_state: torch.Tensor,
                  geometry_state: torch.Tensor) -> torch.Tensor:
        """The muscle state after a step ``dt`` from ``state_derivative`` (from :meth:`ode`), the state and the
        geometry (batch, 2 + dof, muscles)."""
        engine = self._engine_effector("integrate")
        return engine.muscle_integrate(float(dt), self._as_state(state_derivative), self._as_state(muscle_state),
                                       self._as_state(geometry_state))

    def get_initial_muscle_state(self, batch_size: int, geometry_state: torch.Tensor) -> torch.Tensor:
        """The state at rest (minimum activation) for a geometry (batch, 2 + dof, muscles)."""
        return self._engine_effector("get_initial_muscle_state").initial_muscle_state(self._as_state(geometry_state))

    def clip_activation(self, a: torch.Tensor) -> torch.Tensor:
        """``a`` clipped to [min_activation, 1]."""
        lower = self.min_activation.reshape(-1) if self.built else torch.zeros(1, dtype=a.dtype)
        return torch.maximum(a, lower.to(a.dtype)).clamp(max=1.0)

    def get_save_config(self) -> dict:
        return {"name": self.__name__, "engine_type": self.engine_type, **self.shared_parameters}


class ReluMuscle(Muscle):
    """Force = max_isometric_force x activation (SPEC §5.1)."""
    engine_type = "ReluMuscle"


class RigidTendonHillMuscle(Muscle):
    """Hill-type muscle with a rigid tendon (Kistemaker et al. 2006 curves; SPEC §5.2)."""
    engine_type = "RigidTendonHillMuscle"
    _required_build_keys = ("max_isometric_force", "tendon_length", "optimal_muscle_length")
    to_build_dict_default = {"normalized_slack_muscle_length": 1.4}


class RigidTendonHillMuscleThelen(Muscle):
    """Hill-type muscle with a rigid tendon and Thelen (2003) curves (SPEC §5.3)."""
    engine_type = "RigidTendonHillMuscleThelen"
    _required_build_keys = ("max_isometric_force", "tendon_length", "optimal_muscle_length")
    to_build_dict_default = {"normalized_slack_muscle_length": 1.0}


class MujocoHillMuscle(Muscle):
    """MuJoCo's Hill muscle curves (``mju_muscleGain``/``mju_muscleBias``; SPEC §5.4)."""
    engine_type = "MujocoHillMuscle"
    _required_build_keys = ("max_isometric_force", "tendon_length", "optimal_muscle_length")
    to_build_dict_default = {"normalized_slack_muscle_length": 1.3, "lmin": 0.5, "lmax": 1.6, "vmax": 1.5,
                             "fvmax": 1.2}

    def __init__(self, min_activation: float | None = None, passive_forces: float | None = None,
                 tau_activation: float | None = None, tau_deactivation: float | None = None, **kwargs):
        super().__init__(min_activation=min_activation, tau_activation=tau_activation,
                         tau_deactivation=tau_deactivation, passive_forces=passive_forces, **kwargs)


class CompliantTendonHillMuscle(Muscle):
    """Hill-type muscle with a compliant tendon (SPEC §5.5; integrate it with RK4 and a small timestep)."""
    engine_type = "CompliantTendonHillMuscle"
    _required_build_keys = ("max_isometric_force", "tendon_length", "optimal_muscle_length")
    to_build_dict_default = {"normalized_slack_muscle_length": 1.4}


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"muscle parameter {name} must be a number, got {type(value).__name__}")
    return float(value)


def _engine():
    from . import _engine as engine
    return engine
