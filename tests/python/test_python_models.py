"""A muscle model written in Python (the reference's way: state_name, to_build_dict, _integrate) steps through
the engine op by op, and reproduces the built-in model it copies: the ReLU muscle in PyTorch against the engine's
fused ReluMuscle, in values and gradients."""

import pytest
import torch

import motornet as mn


class PythonRelu(mn.muscle.Muscle):
    """The ReLU muscle written in PyTorch: force = activation x max_isometric_force."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.state_name = ["activation", "muscle length", "muscle velocity", "force"]
        self.to_build_dict = {"max_isometric_force": []}

    def _integrate(self, dt, state_derivative, muscle_state, geometry_state):
        activation = self.clip_activation(muscle_state[:, :1, :] + state_derivative[:, :1, :] * dt)
        force = activation * self.max_iso_force
        return torch.cat([activation, geometry_state[:, :2, :], force], dim=1)


def point_mass(muscle, dtype):
    effector = mn.effector.Effector(mn.skeleton.PointMass(space_dim=2), muscle).to(dtype)
    for name, corner in (("ur", [2, 2]), ("ul", [-2, 2]), ("lr", [2, -2]), ("ll", [-2, -2])):
        effector.add_muscle([0, 1], [corner, [0, 0]], name=name, max_isometric_force=400.)
    return effector


def episode(effector, dtype):
    torch.manual_seed(0)
    actions = torch.rand(15, 3, 4, dtype=dtype, requires_grad=True)
    joint0 = torch.tensor([[0.1, -0.2, 0.3, 0.1]], dtype=dtype, requires_grad=True).expand(3, 4)
    effector.reset(options={"joint_state": joint0})
    states, loss = [], 0
    for t in range(actions.shape[0]):
        effector.step(actions[t])
        states.append(torch.cat([effector.states["joint"], effector.states["muscle"].flatten(1)], dim=1))
        loss = loss + effector.states["fingertip"].pow(2).sum() + 1e-4 * effector.states["muscle"][:, 3].sum()
    loss.backward()
    return torch.stack(states), actions.grad


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_a_python_muscle_equals_the_engine_model_it_copies(dtype):
    python_effector = point_mass(PythonRelu(), dtype)
    assert not python_effector.uses_fused_kernels  # Python equations run op by op
    builtin_effector = point_mass(mn.muscle.ReluMuscle(), dtype)
    assert builtin_effector.uses_fused_kernels
    python_states, python_grad = episode(python_effector, dtype)
    builtin_states, builtin_grad = episode(builtin_effector, dtype)
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    assert torch.allclose(python_states, builtin_states, atol=tolerance, rtol=tolerance)
    assert torch.allclose(python_grad, builtin_grad, atol=tolerance, rtol=tolerance)
    assert python_effector.muscle.state_name == builtin_effector.muscle.state_name


def test_a_python_muscle_in_an_environment_with_its_own_proprioception():
    class Scaled(PythonRelu):
        def _proprioception_scales(self, n_muscles):
            return torch.full((n_muscles,), 2.0), torch.full((n_muscles,), 4.0)

    effector = point_mass(Scaled(), torch.float32)
    env = mn.environment.Environment(effector, proprioception_delay=0.02)
    obs, _ = env.reset(options={"batch_size": 2})
    obs, *_ = env.step(torch.full((2, 4), 0.5))
    length = effector.states["muscle"][:, 1, :]
    assert torch.allclose(effector.muscle.l0_ce.reshape(-1), torch.full((4,), 2.0))
    obs, *_ = env.step(torch.full((2, 4), 0.5))
    assert torch.allclose(obs[:, 4:8], length / 2.0)  # proprioception delayed by one step


def test_python_muscle_errors_are_python_exceptions():
    class NoForce(PythonRelu):
        def __init__(self):
            super().__init__()
            self.state_name = ["activation", "muscle length"]

    with pytest.raises(ValueError, match="'force'"):
        point_mass(NoForce(), torch.float32)

    class Raises(PythonRelu):
        def _integrate(self, dt, state_derivative, muscle_state, geometry_state):
            raise ZeroDivisionError("inside the user's equations")

    with pytest.raises(ZeroDivisionError, match="user's equations"):
        point_mass(Raises(), torch.float32).reset()

    class NotATensor(PythonRelu):
        def _integrate(self, dt, state_derivative, muscle_state, geometry_state):
            return 3

    with pytest.raises(ValueError, match="must return a torch.Tensor"):
        point_mass(NotATensor(), torch.float32).reset()

    class Nothing(mn.muscle.Muscle):
        pass

    with pytest.raises(TypeError, match="_integrate"):
        Nothing()


class PythonPointMass(mn.skeleton.Skeleton):
    """The point mass written in PyTorch: acceleration (F + load) / m, points on the mass move with it."""

    n_bodies = 2

    def __init__(self, mass=1.0):
        super().__init__(dof=2, space_dim=2, name="python_point_mass")
        self.mass = mass

    def _ode(self, inputs, joint_state, endpoint_load):
        return (inputs if endpoint_load is None else inputs + endpoint_load) / self.mass

    def _joint2cartesian(self, joint_state):
        return joint_state

    def _path2cartesian(self, path_coordinates, path_fixation_body, joint_state):
        on_mass = (path_fixation_body == 1).to(joint_state.dtype)                  # (points,)
        position = joint_state[:, :2, None] * on_mass + path_coordinates[None]     # (batch, 2, points)
        velocity = joint_state[:, 2:, None] * on_mass
        jacobian = torch.eye(2, dtype=joint_state.dtype)[None, :, :, None] * on_mass
        return position, velocity, jacobian.expand(joint_state.shape[0], 2, 2, on_mass.shape[0])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_a_python_skeleton_equals_the_engine_skeleton_it_copies(dtype):
    def build(skeleton):
        effector = mn.effector.Effector(skeleton, mn.muscle.ReluMuscle()).to(dtype)
        for name, corner in (("ur", [2, 2]), ("ul", [-2, 2]), ("lr", [2, -2]), ("ll", [-2, -2])):
            effector.add_muscle([0, 1], [corner, [0, 0]], name=name, max_isometric_force=400.)
        return effector

    python_effector = build(PythonPointMass())
    assert not python_effector.uses_fused_kernels
    python_states, python_grad = episode(python_effector, dtype)
    builtin_states, builtin_grad = episode(build(mn.skeleton.PointMass()), dtype)
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    assert torch.allclose(python_states, builtin_states, atol=tolerance, rtol=tolerance)
    assert torch.allclose(python_grad, builtin_grad, atol=tolerance, rtol=tolerance)


def test_python_skeleton_errors_are_python_exceptions():
    class Incomplete(mn.skeleton.Skeleton):
        def _ode(self, inputs, joint_state, endpoint_load):
            return inputs

    with pytest.raises(TypeError, match="_path2cartesian"):
        Incomplete(dof=2, space_dim=2)

    class BadPaths(PythonPointMass):
        def _path2cartesian(self, path_coordinates, path_fixation_body, joint_state):
            return joint_state

    effector = mn.effector.Effector(BadPaths(), mn.muscle.ReluMuscle())
    with pytest.raises(ValueError, match="three tensors"):
        effector.add_muscle([0, 1], [[2, 2], [0, 0]], max_isometric_force=1.)
        effector.reset()
