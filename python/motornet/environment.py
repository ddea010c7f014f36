"""Environments (``motornet.environment``), as in MotorNet 0.2, with Gymnasium's interface:
``reset(seed=, options=) -> (obs, info)`` and ``step(action) -> (obs, reward, terminated, truncated, info)``.

The observation is ``[goal | vision | proprioception | past actions]``, vision and proprioception delayed and
noisy as configured. An environment whose subclass keeps the senses as they are (it may override ``reset`` and
``step``'s goal, not ``get_obs``, ``get_vision``, ``get_proprioception``, ``update_obs_buffer`` or
``apply_noise``) steps and senses in one fused C++ node; one that overrides them runs its Python methods, exactly
as the reference does.

Noise draws come from the environment's ``torch.Generator`` (seeded by ``reset(seed=...)``), not NumPy's, so a
seed reproduces an episode here but not the reference's draws. ``deterministic=True`` switches off every noise
(action, observation, vision and proprioception), as the reference's documentation says.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .effector import Effector
from .spaces import Box, Env


def _delay_steps(delay: float | None, dt: float, name: str) -> int:
    delay = dt if delay is None else float(delay)
    steps = delay / dt
    if delay < 0 or abs(steps - round(steps)) > 1e-9 * max(1.0, steps):
        raise ValueError(f"{name}={delay} is not a non-negative integer multiple of dt={dt}.")
    return int(round(steps))


def _noise_list(noise, size: int, name: str) -> list[float]:
    values = np.atleast_1d(np.asarray(noise, dtype=float)).reshape(-1)
    if values.size == 1:
        values = np.repeat(values, size)
    if values.size != size:
        raise ValueError(f"{name} must be one number or {size} numbers, got {values.size}")
    if np.any(values < 0):
        raise ValueError(f"{name} must be non-negative")
    return values.tolist()


class Environment(Env, torch.nn.Module):
    """Base class of the environments: an effector seen through delayed, noisy senses.

    Args:
      effector: a :class:`motornet.effector.Effector`.
      q_init: fixed initial joint states (one row, or one per trial); ``None`` draws them at each reset.
      name: the environment's name.
      differentiable: ``True``: tensors out, gradients through the episode; ``False``: NumPy arrays out (for
        reinforcement learning) and a reward.
      max_ep_duration: seconds; ``terminated`` becomes ``True`` when an episode reaches it.
      action_noise, obs_noise: standard deviations of Gaussian noise on the action and on the observation (one
        number, or one per entry).
      action_frame_stacking: how many past actions the observation carries.
      proprioception_delay, vision_delay: seconds (multiples of the effector's timestep; default one timestep,
        that is no lag).
      proprioception_noise, vision_noise: standard deviations of Gaussian noise on each sense.
    """

    def __init__(self, effector: Effector, q_init=None, name: str = "Env", differentiable: bool = True,
                 max_ep_duration: float = 1., action_noise: float = 0., obs_noise: float | list = 0.,
                 action_frame_stacking: int = 0, proprioception_delay: float | None = None,
                 vision_delay: float | None = None, proprioception_noise: float = 0., vision_noise: float = 0.,
                 **kwargs):
        torch.nn.Module.__init__(self, **kwargs)
        if not isinstance(effector, Effector):
            raise TypeError(f"effector must be a motornet.effector.Effector, got {type(effector).__name__}")
        if effector.n_muscles == 0:
            raise ValueError("the effector has no muscles: add them before building the environment")
        self.__name__ = name
        self.effector = effector
        self.__dict__["_effector"] = effector  # the same, read without torch.nn.Module's attribute lookup
        self.dt = effector.dt
        self.differentiable = bool(differentiable)
        if max_ep_duration <= 0:
            raise ValueError(f"max_ep_duration must be positive, got {max_ep_duration}")
        self.max_ep_duration = float(max_ep_duration)
        self.elapsed = None
        if isinstance(action_frame_stacking, bool) or int(action_frame_stacking) != action_frame_stacking \
                or action_frame_stacking < 0:
            raise ValueError(f"action_frame_stacking must be a non-negative integer, got {action_frame_stacking!r}")
        self.action_frame_stacking = int(action_frame_stacking)
        self.proprioception_delay = _delay_steps(proprioception_delay, self.dt, "proprioception_delay")
        self.vision_delay = _delay_steps(vision_delay, self.dt, "vision_delay")
        if self.proprioception_delay < 1 or self.vision_delay < 1:
            raise ValueError("proprioception_delay and vision_delay must be at least one timestep (the default)")
        self.proprioception_noise = [float(proprioception_noise)]
        self.vision_noise = [float(vision_noise)]
        if proprioception_noise < 0 or vision_noise < 0:
            raise ValueError("proprioception_noise and vision_noise must be non-negative")
        if q_init is not None:
            q_init = np.asarray(q_init, dtype=float)
            q_init = q_init.reshape(1, -1) if q_init.ndim == 1 else q_init
        self.q_init = q_init
        self.nq_init = None if q_init is None else q_init.shape[0]
        self.goal = None
        self.seed = None
        self.obs_buffer = {"proprioception": [None] * self.proprioception_delay,
                           "vision": [None] * self.vision_delay, "action": [None] * self.action_frame_stacking}
        self._action_noise_arg, self._obs_noise_arg = action_noise, obs_noise
        self._build_spaces()

    # -- spaces -------------------------------------------------------------------------------------------------
    def _get_obs_size(self) -> int:
        """Entries of the observation; override it with ``get_obs`` when a subclass changes the observation."""
        return 2 * self.space_dim + 2 * self.n_muscles + self.n_muscles * self.action_frame_stacking

    def _build_spaces(self) -> None:
        self.action_space = Box(low=0., high=1., shape=(self.n_muscles,), dtype=np.float32)
        self.observation_space = Box(low=-np.inf, high=np.inf, shape=(self._get_obs_size(),), dtype=np.float32)
        self.action_noise = _noise_list(self._action_noise_arg, self.action_space.shape[0], "action_noise")
        self.obs_noise = _noise_list(self._obs_noise_arg, self.observation_space.shape[0], "obs_noise")

    # -- the senses (override these to change what is observed) -------------------------------------------------
    def get_proprioception(self) -> torch.Tensor:
        """Muscle lengths then velocities, each normalised (batch, 2 muscles), with proprioceptive noise."""
        muscle = self.states["muscle"]
        length = muscle[:, self._length_row, :] / self._scales[0]
        velocity = muscle[:, self._length_row + 1, :] / self._scales[1]
        return self.apply_noise(torch.cat([length, velocity], dim=-1), self.proprioception_noise)

    def get_vision(self) -> torch.Tensor:
        """The fingertip position (batch, space_dim), with visual noise."""
        return self.apply_noise(self.states["fingertip"], self.vision_noise)

    def get_obs(self, action: torch.Tensor | None = None, deterministic: bool = False):
        """Updates the sense buffers and returns ``[goal | delayed vision | delayed proprioception | actions]``,
        with observation noise unless ``deterministic``."""
        self.update_obs_buffer(action=action)
        return self._observation(deterministic)

    def update_obs_buffer(self, action: torch.Tensor | None = None) -> None:
        """Shifts each sense buffer by one step and appends the current senses (and ``action``)."""
        self._push_senses(self.get_vision(), self.get_proprioception(), action)

    # The two halves of get_obs, shared with the fused step (which has the senses from C++).
    def _push_senses(self, vision: torch.Tensor, proprioception: torch.Tensor, action) -> None:
        buffers = self.obs_buffer
        buffers["proprioception"] = buffers["proprioception"][1:] + [proprioception]
        buffers["vision"] = buffers["vision"][1:] + [vision]
        if action is not None and self.action_frame_stacking:
            buffers["action"] = buffers["action"][1:] + [action.reshape(-1, self.n_muscles)]

    def _observation(self, deterministic: bool):
        """[goal | delayed vision | delayed proprioception | actions] from the buffers, with observation noise
        unless ``deterministic``."""
        buffers = self.obs_buffer
        parts = [self.goal, buffers["vision"][0], buffers["proprioception"][0]]
        obs = torch.cat(parts + buffers["action"][:self.action_frame_stacking], dim=-1)
        if not deterministic:
            obs = self.apply_noise(obs, self.obs_noise)
        return obs if self.differentiable else self.detach(obs)

    def apply_noise(self, loc: torch.Tensor, noise) -> torch.Tensor:
        """``loc`` plus Gaussian noise of standard deviation ``noise`` (one number or one per column); unchanged
        when the noise is zero or the episode is deterministic."""
        sigma = np.asarray(noise, dtype=float).reshape(-1)
        if self._deterministic or not np.any(sigma):
            return loc
        draws = torch.randn(loc.shape, generator=self.effector._generator, dtype=loc.dtype)
        return loc + draws * torch.as_tensor(sigma, dtype=loc.dtype)

    # -- episodes -----------------------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Starts a batch of episodes: goal at the origin, effector at ``options["joint_state"]``, ``q_init`` or
        random joint states. ``options``: ``batch_size`` (1), ``joint_state``, ``deterministic`` (False).
        Returns ``(obs, info)``."""
        batch_size, joint_state, deterministic = self._reset_options(seed, options)
        self.goal = torch.zeros((batch_size, self.space_dim), dtype=self.effector.dtype)
        self.effector.reset(options={"batch_size": batch_size, "joint_state": joint_state})
        return self._start_episode(batch_size, deterministic)

    def _reset_options(self, seed, options):
        self._set_generator(seed)
        options = {} if options is None else dict(options)
        unknown = set(options) - {"batch_size", "joint_state", "deterministic"}
        if unknown:
            raise ValueError(f"unknown reset option(s) {sorted(unknown)}; known: batch_size, joint_state, "
                             "deterministic")
        batch_size = options.get("batch_size", 1)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        joint_state = options.get("joint_state")
        if joint_state is not None:
            shape = np.shape(self.detach(joint_state))
            if len(shape) > 1 and shape[0] > 1:
                batch_size = shape[0]
        elif self.q_init is not None:
            joint_state = torch.as_tensor(self.q_init, dtype=self.effector.dtype)
            if joint_state.shape[0] > 1:
                batch_size = joint_state.shape[0]
        return int(batch_size), joint_state, bool(options.get("deterministic", False))

    def _start_episode(self, batch_size: int, deterministic: bool):
        """The rest of a reset once the goal and effector are set: buffers, first observation, info."""
        self.elapsed = 0.
        self.__dict__["_deterministic"] = deterministic
        self._plan_episode()
        engine = self.effector.engine
        self._scales = engine.proprioception_scales()
        self._length_row = list(engine.muscle_state_names).index("muscle length")
        action = torch.zeros((batch_size, self.n_muscles), dtype=self.effector.dtype)
        self.obs_buffer["proprioception"] = [self.get_proprioception()] * self.proprioception_delay
        self.obs_buffer["vision"] = [self.get_vision()] * self.vision_delay
        self.obs_buffer["action"] = [action] * self.action_frame_stacking
        obs = self.get_obs(deterministic=deterministic)
        action = action if self.differentiable else self.detach(action)
        info = {"states": self._maybe_detach_states(), "action": action, "noisy action": action,
                "goal": self.goal if self.differentiable else self.detach(self.goal)}
        return obs, info

    def step(self, action, deterministic: bool = False, **kwargs):
        """One timestep: ``action`` (batch, muscles) with motor noise drives the effector; ``endpoint_load`` and
        ``joint_load`` keyword arguments go to the effector. Returns ``(obs, reward, terminated, truncated,
        info)``; ``reward`` is ``None`` when differentiable, else zeros (batch, 1)."""
        if self.elapsed is None:
            raise RuntimeError(f"{self.__name__}.step before reset")
        # Plain attribute writes: torch.nn.Module.__setattr__ checks for parameters and submodules, which cost a
        # few microseconds per write at every step.
        fields = self.__dict__
        fields["elapsed"] = self.elapsed + self.dt
        effector = fields["_effector"]
        episode_deterministic = fields["_deterministic"]
        deterministic = deterministic or episode_deterministic
        action = effector._as_tensor(action, "action")
        obs = None
        if self._builtin_senses and kwargs.get("joint_load") is None:
            noisy_action = action if deterministic or not self._noisy_action else \
                self.apply_noise(action, self.action_noise)
            obs = self._fused_step(effector, noisy_action, kwargs.get("endpoint_load"), deterministic)
        if obs is None:
            fields["_deterministic"] = deterministic  # apply_noise reads it: this step's senses too
            try:
                noisy_action = action if deterministic else self.apply_noise(action, self.action_noise)
                effector.step(noisy_action, **kwargs)
                obs = self.get_obs(action=noisy_action, deterministic=deterministic)
            finally:
                fields["_deterministic"] = episode_deterministic
        reward = None if self.differentiable else np.zeros((action.shape[0], 1))
        terminated = bool(self.elapsed >= self.max_ep_duration - 1e-9 * self.dt)
        info = {"states": self._maybe_detach_states(), "action": action, "noisy action": noisy_action,
                "goal": self.goal if self.differentiable else self.detach(self.goal)}
        return obs, reward, terminated, False, info

    # -- the fused path -----------------------------------------------------------------------------------------
    _SENSE_METHODS = ("get_obs", "get_vision", "get_proprioception", "update_obs_buffer", "apply_noise")

    def _senses_are_builtin(self) -> bool:
        cls = type(self)
        return all(getattr(cls, m) is getattr(Environment, m) for m in self._SENSE_METHODS)

    def _plan_episode(self) -> None:
        """What the fused step does this episode (read at reset: the noise settings and delays)."""
        fields = self.__dict__
        fields["_builtin_senses"] = self._senses_are_builtin()
        fields["_noisy_action"] = any(self.action_noise)
        fields["_noisy_senses"] = bool(self.vision_noise[0] or self.proprioception_noise[0])
        fields["_noisy_obs"] = any(self.obs_noise)
        # Without delays, stacked actions or noise the C++ step returns the whole observation.
        fields["_whole_observation"] = (self.proprioception_delay == 1 and self.vision_delay == 1
                                        and not self.action_frame_stacking and not self._noisy_senses
                                        and not self._noisy_obs)

    def _fused_step(self, effector: Effector, action: torch.Tensor, endpoint_load, deterministic: bool):
        """The step and the senses of its new state as one C++ node; None when the engine steps op by op."""
        s = effector.states
        load = None if endpoint_load is None else effector._as_tensor(endpoint_load, "endpoint_load")
        goal = self.goal
        if self._whole_observation and not goal.requires_grad:
            result = effector.engine.step_sensed(s["joint"], s["cartesian"], s["muscle"], s["geometry"], action,
                                                 self._scales, self._length_row, load, task_inputs=goal)
            if result is None:
                return None
            effector._set_states(result[0], result[1], result[2], result[3])
            return result[4] if self.differentiable else self.detach(result[4])
        draws = {}
        if self._noisy_senses and not deterministic:
            batch, gen, dtype = action.shape[0], effector._generator, effector.dtype
            draws = {"vision_draws": torch.randn((batch, self.space_dim), generator=gen, dtype=dtype),
                     "proprio_draws": torch.randn((batch, 2 * self.n_muscles), generator=gen, dtype=dtype),
                     "vision_sigma": self.vision_noise[0], "proprioception_sigma": self.proprioception_noise[0]}
        result = effector.engine.step_sensed(s["joint"], s["cartesian"], s["muscle"], s["geometry"], action,
                                             self._scales, self._length_row, load, **draws)
        if result is None:
            return None
        effector._set_states(result[0], result[1], result[2], result[3])
        self._push_senses(result[4], result[5], action)
        return self._observation(deterministic or not self._noisy_obs)

    # -- shortcuts and helpers, as in the reference ------------------------------------------------------------
    _deterministic = False
    _builtin_senses = False

    @property
    def muscle(self):
        return self.effector.muscle

    @property
    def n_muscles(self) -> int:
        return self.effector.n_muscles

    @property
    def skeleton(self):
        return self.effector.skeleton

    @property
    def space_dim(self) -> int:
        return self.effector.space_dim

    @property
    def states(self) -> dict:
        return self.effector.states

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    @property
    def np_random(self) -> np.random.Generator:
        return self.effector.np_random

    @np_random.setter
    def np_random(self, rng) -> None:
        self.effector.np_random = rng

    def _set_generator(self, seed: int | None) -> None:
        if seed is not None:
            self.seed = int(seed)
            self.effector.seed_generators(self.seed)

    def _maybe_detach_states(self) -> dict:
        states = self.__dict__["_effector"].states
        return states if self.differentiable else {k: self.detach(v) for k, v in states.items()}

    def joint2cartesian(self, joint_states: torch.Tensor) -> torch.Tensor:
        return self.effector.joint2cartesian(joint_states)

    @staticmethod
    def detach(x):
        return x.cpu().detach().numpy() if torch.is_tensor(x) else x

    _NOT_ATTRIBUTES = ("effector", "muscle", "skeleton", "np_random", "states", "goal", "obs_buffer", "unwrapped",
                       "training", "T_destination", "dump_patches", "call_super_init")

    def get_attributes(self) -> tuple[list[str], list]:
        """Names and values of the environment's public, non-callable attributes (not the effector, its parts,
        states, buffers or spaces)."""
        names = [a for a in dir(self) if not a.startswith("_") and a not in self._NOT_ATTRIBUTES
                 and not callable(getattr(self, a)) and not hasattr(getattr(self, a), "sample")]
        return names, [getattr(self, a) for a in names]

    def print_attributes(self) -> None:
        for name, value in zip(*self.get_attributes()):
            print(f"{name}: ", value)

    def get_save_config(self) -> dict:
        return {"name": self.__name__, "dt": self.dt, "max_ep_duration": self.max_ep_duration,
                "differentiable": self.differentiable, "action_noise": self.action_noise,
                "obs_noise": self.obs_noise, "action_frame_stacking": self.action_frame_stacking,
                "proprioception_delay": self.proprioception_delay * self.dt,
                "vision_delay": self.vision_delay * self.dt, "proprioception_noise": self.proprioception_noise[0],
                "vision_noise": self.vision_noise[0], "effector": self.effector.get_save_config()}

    def to(self, *args, **kwargs):
        self.effector.to(*args, **kwargs)
        return self

    def double(self):
        return self.to(torch.float64)

    def float(self):
        return self.to(torch.float32)


class RandomTargetReach(Environment):
    """Reach from a random start to a random target, both drawn uniformly over the reachable workspace at each
    reset. The goal's entries of the observation carry no observation noise."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.obs_noise[:self.space_dim] = [0.] * self.space_dim

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        batch_size, joint_state, deterministic = self._reset_options(seed, options)
        self.effector.reset(options={"batch_size": batch_size, "joint_state": joint_state})
        target_joints = self.effector.draw_random_uniform_states(batch_size)
        self.goal = self.joint2cartesian(target_joints)[:, :self.space_dim].detach()
        return self._start_episode(batch_size, deterministic)


class TaskEnvironment:
    """An environment with one of the engine's configured tasks (``environment.task`` of an experiment file:
    RandomTargetReach, CentreOutReach, DelayedReach, PostureHold, with force fields), stepped wholly in C++,
    with Gymnasium's ``reset``/``step`` signatures. ``Environment.from_config`` and ``Run.environment()`` make
    one."""

    def __init__(self, engine_environment, config: dict):
        self._env = engine_environment
        self.config = config
        self.dt = engine_environment.timestep
        effector = engine_environment.effector
        self.n_muscles = effector.n_muscles
        self.space_dim = effector.space_dim
        self.action_space = Box(low=0., high=1., shape=(self.n_muscles,), dtype=np.float32)
        self.observation_space = Box(low=-np.inf, high=np.inf, shape=(engine_environment.observation_size,),
                                     dtype=np.float32)
        self.max_ep_steps = engine_environment.n_steps

    @classmethod
    def from_config(cls, config: dict) -> "TaskEnvironment":
        import json
        if not isinstance(config, dict) or "effector" not in config:
            raise ValueError("config must be a dict with an 'effector' block (and an 'environment' block)")
        blocks = {"effector": config["effector"], "environment": config.get("environment", {})}
        return cls(_engine_module().TaskEnvironment.from_json(json.dumps(blocks)), config)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        options = {} if options is None else dict(options)
        unknown = set(options) - {"batch_size", "deterministic", "evaluation", "joint_state", "target"}
        if unknown:
            raise ValueError(f"unknown reset option(s) {sorted(unknown)}")
        if seed is not None:
            self._env.seed(int(seed))
        obs, info = self._env.reset(int(options.get("batch_size", 1)), bool(options.get("deterministic", False)),
                                    bool(options.get("evaluation", False)), options.get("joint_state"),
                                    options.get("target"))
        return obs, info

    def step(self, action):
        obs, terminated, info = self._env.step(torch.as_tensor(action))
        return obs, None, terminated, False, info


def _engine_module():
    from . import _engine
    return _engine


def _from_config(cls, config: dict) -> TaskEnvironment:
    """An environment with the configured effector, senses and task of an experiment (a dict as in an
    experiment file, or a path to one)."""
    if not isinstance(config, dict):
        import yaml
        with open(config) as f:
            config = yaml.safe_load(f)
    return TaskEnvironment.from_config(config)


Environment.from_config = classmethod(_from_config)
