"""The reference API's classes constructed and stepped: shapes, dtypes, Gymnasium's signatures, errors."""

import numpy as np
import pytest
import torch

import motornet as mn

MUSCLES = [mn.muscle.ReluMuscle, mn.muscle.RigidTendonHillMuscle, mn.muscle.RigidTendonHillMuscleThelen,
           mn.muscle.MujocoHillMuscle, mn.muscle.CompliantTendonHillMuscle]


def presets():
    return {
        "ReluPointMass24": lambda: mn.effector.ReluPointMass24(),
        "RigidTendonArm26": lambda: mn.effector.RigidTendonArm26(muscle=mn.muscle.RigidTendonHillMuscle()),
        "RigidTendonArm26-mujoco": lambda: mn.effector.RigidTendonArm26(muscle=mn.muscle.MujocoHillMuscle()),
        "RigidTendonArm26-thelen": lambda: mn.effector.RigidTendonArm26(
            muscle=mn.muscle.RigidTendonHillMuscleThelen()),
        "CompliantTendonArm26": lambda: mn.effector.CompliantTendonArm26(),
        "Reacher": lambda: mn.effector.Reacher(muscle=mn.muscle.ReluMuscle()),
        "FreePointMass24": lambda: mn.effector.FreePointMass24(muscle=mn.muscle.ReluMuscle()),
    }


def test_package_says_what_it_is():
    assert mn.engine == "cpp"
    assert mn.__version__.startswith("0.2.0+cpp")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", list(presets()))
def test_preset_effectors_step_with_reference_shapes(name, dtype):
    effector = presets()[name]().to(dtype)
    batch, m, d, s = 5, effector.n_muscles, effector.dof, effector.space_dim
    effector.reset(seed=1, options={"batch_size": batch})
    effector.step(torch.full((batch, m), 0.3, dtype=dtype))
    states = effector.states
    assert states["joint"].shape == (batch, 2 * d)
    assert states["cartesian"].shape == (batch, 2 * s)
    assert states["fingertip"].shape == (batch, s)
    assert states["muscle"].shape == (batch, effector.muscle.state_dim, m)
    assert states["geometry"].shape == (batch, 2 + d, m)
    assert all(v.dtype == dtype for v in states.values())
    assert len(effector.muscle_name) == m
    assert effector.muscle.max_iso_force.shape == (1, 1, m)
    assert torch.isfinite(states["muscle"]).all()


def test_every_muscle_model_builds_on_a_custom_effector():
    for muscle_class in MUSCLES:
        effector = mn.effector.Effector(mn.skeleton.TwoDofArm(), muscle_class(), timestep=0.002)
        hill = {} if muscle_class is mn.muscle.ReluMuscle else {"tendon_length": 0.05, "optimal_muscle_length": 0.08}
        effector.add_muscle(path_fixation_body=[0, 1], path_coordinates=[[-0.05, 0.0], [0.1, 0.02]],
                            name="flexor", max_isometric_force=100., **hill)
        effector.reset(options={"batch_size": 2, "joint_state": torch.tensor([[0.8, 1.0, 0, 0]])})
        effector.step(np.full((2, 1), 0.5, dtype=np.float32))
        assert effector.states["muscle"].shape[1] == len(effector.muscle.state_name)
        assert effector.muscle_name == ["flexor"]


def test_relu_point_mass24_of_another_mass_accelerates_in_inverse_proportion():
    # Same start, same muscles, same action: the first step raises the activation; in the second the muscles
    # pull from the unmoved start, so the velocity is F dt / m.
    start = torch.tensor([[0.3, -0.2, 0.0, 0.0]], dtype=torch.float64)
    velocities = {}
    for mass in (1.0, 2.5):
        effector = mn.effector.ReluPointMass24(mass=mass, max_isometric_force=400).to(torch.float64)
        effector.reset(options={"joint_state": start})
        for _ in range(2):
            effector.step(torch.tensor([[0.9, 0.1, 0.4, 0.2]], dtype=torch.float64))
        velocities[mass] = effector.states["joint"][0, 2:]
        assert effector.muscle_name == ["UpperRight", "UpperLeft", "LowerRight", "LowerLeft"]
    assert velocities[1.0].abs().max() > 0
    assert torch.allclose(velocities[2.5] * 2.5, velocities[1.0], rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match="mass must be positive"):
        mn.effector.ReluPointMass24(mass=0)


def test_joint_state_tiles_and_sets_the_batch():
    effector = mn.effector.ReluPointMass24()
    effector.reset(options={"batch_size": 3, "joint_state": torch.tensor([[0.1, 0.2]])})
    assert torch.allclose(effector.states["joint"], torch.tensor([[0.1, 0.2, 0., 0.]] * 3))
    effector.reset(options={"joint_state": torch.zeros(4, 4)})
    assert effector.states["joint"].shape == (4, 4)


def test_reset_seed_reproduces_the_random_start():
    effector = mn.effector.RigidTendonArm26(muscle=mn.muscle.RigidTendonHillMuscle())
    effector.reset(seed=3, options={"batch_size": 4})
    first = effector.states["joint"].clone()
    effector.reset(seed=3, options={"batch_size": 4})
    assert torch.equal(first, effector.states["joint"])
    effector.reset(seed=4, options={"batch_size": 4})
    assert not torch.equal(first, effector.states["joint"])


def test_geometry_and_kinematics_helpers():
    effector = mn.effector.RigidTendonArm26(muscle=mn.muscle.RigidTendonHillMuscle())
    joint = torch.tensor([[0.5, 1.0, 0., 0.]])
    assert effector.get_geometry(joint).shape == (1, 4, 6)
    xy = effector.joint2cartesian(joint)[0, :2]
    l1, l2 = effector.skeleton.L1, effector.skeleton.L2
    expected = torch.tensor([l1 * np.cos(0.5) + l2 * np.cos(1.5), l1 * np.sin(0.5) + l2 * np.sin(1.5)],
                            dtype=torch.float32)
    assert torch.allclose(xy, expected, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_environment_gymnasium_interface(dtype):
    env = mn.environment.RandomTargetReach(effector=mn.effector.ReluPointMass24().to(dtype), max_ep_duration=0.05)
    obs, info = env.reset(seed=0, options={"batch_size": 8})
    assert obs.shape == (8,) + env.observation_space.shape and obs.dtype == dtype
    assert env.observation_space.shape == (2 + 2 + 8,)
    assert env.action_space.shape == (4,)
    assert env.action_space.sample().shape == (4,)
    assert set(info) >= {"states", "action", "noisy action", "goal"}
    terminated = False
    steps = 0
    while not terminated:
        obs, reward, terminated, truncated, info = env.step(torch.rand(8, 4, dtype=dtype))
        steps += 1
        assert reward is None and truncated is False
    assert steps == 5
    assert torch.equal(obs[:, :2], env.goal)


def test_non_differentiable_environment_returns_arrays_and_a_reward():
    env = mn.environment.RandomTargetReach(effector=mn.effector.ReluPointMass24(), differentiable=False)
    obs, info = env.reset(options={"batch_size": 3})
    assert isinstance(obs, np.ndarray) and obs.shape == (3, 12)
    obs, reward, terminated, truncated, info = env.step(np.full((3, 4), 0.2, dtype=np.float32))
    assert isinstance(obs, np.ndarray) and reward.shape == (3, 1)
    assert isinstance(info["states"]["joint"], np.ndarray)


def test_delays_lag_the_senses_by_whole_steps():
    effector = mn.effector.ReluPointMass24()
    env = mn.environment.Environment(effector, vision_delay=0.03, proprioception_delay=0.02)
    assert env.vision_delay == 3 and env.proprioception_delay == 2
    env.reset(options={"joint_state": torch.tensor([[0.0, 0.0, 0.0, 0.0]])})
    fingertips = []
    for _ in range(6):
        obs, *_ = env.step(torch.tensor([[1.0, 0.0, 0.0, 0.0]]))
        fingertips.append(env.states["fingertip"].clone())
        if len(fingertips) >= 3:
            assert torch.equal(obs[:, 2:4], fingertips[-3])


def test_action_frame_stacking_appends_past_actions():
    env = mn.environment.Environment(mn.effector.ReluPointMass24(), action_frame_stacking=2)
    assert env.observation_space.shape == (2 + 2 + 8 + 8,)
    env.reset(options={"batch_size": 1})
    a1, a2 = torch.tensor([[0.1, 0.2, 0.3, 0.4]]), torch.tensor([[0.5, 0.6, 0.7, 0.8]])
    env.step(a1)
    obs, *_ = env.step(a2)
    assert torch.allclose(obs[:, 12:16], a1) and torch.allclose(obs[:, 16:20], a2)


def test_noise_is_seeded_and_deterministic_switches_it_off():
    def run(seed, deterministic=False):
        env = mn.environment.Environment(mn.effector.ReluPointMass24(), vision_noise=0.01,
                                         proprioception_noise=0.01, obs_noise=0.01, action_noise=0.01)
        obs, _ = env.reset(seed=seed, options={"batch_size": 2, "deterministic": deterministic,
                                               "joint_state": torch.zeros(1, 4)})
        out = [obs]
        for _ in range(3):
            out.append(env.step(torch.full((2, 4), 0.3))[0])
        return torch.cat(out)
    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))
    assert torch.equal(run(1, deterministic=True), run(2, deterministic=True))


def test_errors_are_python_exceptions_with_the_engine_message():
    effector = mn.effector.Effector(mn.skeleton.PointMass(), mn.muscle.ReluMuscle())
    with pytest.raises(ValueError, match="2 points but path_fixation_body specifies 3"):
        effector.add_muscle([0, 1, 1], [[0, 0], [1, 1]], max_isometric_force=1.)
    with pytest.raises(TypeError, match="max_isometric_force"):
        effector.add_muscle([0, 1], [[0, 0], [1, 1]])
    with pytest.raises(ValueError, match="max_isometric_force"):
        effector.add_muscle([0, 1], [[0, 0], [1, 1]], max_isometric_force=-5.)
    assert effector.n_muscles == 0  # nothing half-added
    with pytest.raises(ValueError, match="bogus_parameter"):
        effector.add_muscle([0, 1], [[0, 0], [1, 1]], max_isometric_force=5., bogus_parameter=1.)
    with pytest.raises(ValueError, match="body"):
        effector.add_muscle([0, 7], [[0, 0], [1, 1]], max_isometric_force=5.)
    with pytest.raises(ValueError, match="integration_method"):
        mn.effector.ReluPointMass24(integration_method="leapfrog")
    with pytest.raises(ValueError, match="timestep"):
        mn.effector.ReluPointMass24(timestep=-0.01)
    with pytest.raises(TypeError):
        mn.effector.Effector("arm", mn.muscle.ReluMuscle())
    with pytest.raises(ValueError, match="ReluMuscle"):  # the arm's muscles need Hill parameters
        mn.effector.RigidTendonArm26(muscle=mn.muscle.ReluMuscle())
    with pytest.raises(ValueError, match="tendon_length"):  # parameters a model does not have are refused
        mn.effector.ReluPointMass24().add_muscle([0, 1], [[1, 0], [0, 0]], max_isometric_force=1., tendon_length=1.)
    effector = mn.effector.ReluPointMass24()
    with pytest.raises(ValueError, match="batch_size"):
        effector.reset(options={"batch_size": 0})
    effector.reset(options={"batch_size": 2})
    with pytest.raises(ValueError, match="action"):
        effector.step(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="vision_delay"):
        mn.environment.Environment(effector, vision_delay=0.015)
    with pytest.raises(ValueError, match="obs_noise"):
        mn.environment.Environment(effector, obs_noise=[0.1, 0.2])
    env = mn.environment.Environment(effector)
    with pytest.raises(ValueError, match="batchsize"):
        env.reset(options={"batchsize": 2})
    with pytest.raises(RuntimeError, match="before reset"):
        mn.environment.Environment(mn.effector.ReluPointMass24()).step(torch.zeros(1, 4))


def test_policy_gru_shapes_initialisation_and_parameter_names():
    policy = mn.policy.PolicyGRU(12, 32, 4, device="cpu")
    names = [n for n, _ in policy.named_parameters()]
    assert names == ["gru.weight_ih_l0", "gru.weight_hh_l0", "gru.bias_ih_l0", "gru.bias_hh_l0", "fc.weight",
                     "fc.bias"]
    assert torch.all(policy.fc.bias == -5.)
    h = policy.init_hidden(7)
    assert h.shape == (1, 7, 32)
    u, h = policy(torch.randn(7, 12), h)
    assert u.shape == (7, 4) and h.shape == (1, 7, 32)
    # one step of the cell equals torch.nn.GRU's own step
    x, h0 = torch.randn(3, 12), torch.randn(1, 3, 32)
    y, h_ref = policy.gru(x[:, None, :], h0)
    _, h_ours = policy(x, h0)
    assert torch.allclose(h_ours, h_ref, atol=1e-6)
    with pytest.raises(ValueError, match="hidden_dim"):
        mn.policy.PolicyGRU(12, 0, 4)


def test_plotor_draws(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    effector = mn.effector.RigidTendonArm26(muscle=mn.muscle.RigidTendonHillMuscle())
    effector.reset(options={"joint_state": torch.tensor([[0.8, 1.2, 0., 0.]])})
    joints, tips = [], []
    for _ in range(10):
        effector.step(torch.full((1, 6), 0.2))
        joints.append(effector.states["joint"])
        tips.append(effector.states["fingertip"])
    figure, axes = plt.subplots(1, 2)
    mn.plotor.plot_pos_over_time(torch.stack(tips, 1).numpy(), axes[0])
    mn.plotor.plot_2dof_arm_over_time(axes[1], effector.skeleton, torch.stack(joints, 1).numpy())
    figure.savefig(tmp_path / "plot.png")
    assert (tmp_path / "plot.png").stat().st_size > 1000
    lower, upper = mn.plotor.compute_limits(np.array([0., 10.]), margin=0.2)
    assert (lower, upper) == (-2., 12.)
