// The fused effector step (one autograd node, hand-derived backward) against the op-by-op reference: values and
// gradients of every output with respect to every input, float64 and float32, for every model that has a fused
// kernel, Euler and RK4, from random states that include rows at the position, velocity and activation bounds
// and actions outside [a_min, 1]. Also: which models fall back, and the errors of `kernels: fused`.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "control/policies/fused_gru_cell.h"
#include "control/policies/fused_sigmoid_linear.h"
#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

using testing::compare;

struct FusedCase {
  std::string name, preset, muscle, method;
  int64_t ministeps;
  double damping;
};
void PrintTo(const FusedCase& c, std::ostream* os) { *os << c.name; }

// A two-joint arm whose four muscles follow paths: one-joint and two-joint muscles, one with a via point on the
// upper arm (path geometry has no preset on the arm).
Effector path_arm(const std::string& muscle, EffectorOptions options = {}) {
  Effector effector(std::make_shared<TwoDofArmImpl>(), make_muscle(muscle), std::move(options));
  MuscleParameters parameters{{"max_isometric_force", 300}, {"tendon_length", 0.05}, {"optimal_muscle_length", 0.1}};
  effector->add_muscle({{0, 1}, {{-0.05, 0.0}, {0.1, 0.02}}}, {"shoulder", parameters, ""});
  effector->add_muscle({{0, 1, 2}, {{0.05, -0.02}, {0.12, -0.02}, {0.03, -0.01}}}, {"biarticular_via", parameters, ""});
  effector->add_muscle({{1, 2}, {{0.2, 0.02}, {0.05, 0.015}}}, {"elbow", parameters, ""});
  effector->add_muscle({{0, 2}, {{0.0, 0.05}, {0.08, 0.0}}}, {"biarticular", parameters, ""});
  return effector;
}

Effector build(const FusedCase& c, const char* kernels, torch::Dtype dtype) {
  auto options = EffectorOptions()
                     .timestep(0.01)
                     .integration_method(parse_integration_method(c.method))
                     .n_ministeps(c.ministeps)
                     .damping(c.damping)
                     .kernels(parse_kernel_choice(kernels));
  auto effector = c.preset == "PathArm" ? path_arm(c.muscle, options) : make_preset(c.preset, make_muscle(c.muscle), options);
  effector->to(dtype);
  return effector;
}

struct StepInputs {
  std::vector<torch::Tensor> tensors;  // joint, muscle, geometry, action, endpoint load, joint load
};

// A realistic state (a few op-by-op steps from random positions), then rows pushed onto the bounds.
StepInputs random_inputs(const Effector& reference, int64_t batch, torch::Dtype dtype) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(7);
  const auto& skeleton = reference->skeleton();
  const int64_t D = reference->dof(), M = reference->n_muscles(), S = reference->space_dim();
  auto options = torch::TensorOptions().dtype(dtype);
  auto state = reference->reset(batch);
  for (int t = 0; t < 3; ++t) state = reference->step(state, torch::rand({batch, M}, options));
  auto joint = state.joint.clone();
  joint.narrow(1, D, D).copy_(torch::randn({batch, D}, options));
  auto lower = skeleton->position_lower_bound(), upper = skeleton->position_upper_bound();
  joint[0].narrow(0, 0, D).copy_(upper);  // at the upper bound, moving into it
  joint[0].narrow(0, D, D).fill_(2.0);
  joint[1].narrow(0, 0, D).copy_(lower);  // at the lower bound, moving into it
  joint[1].narrow(0, D, D).fill_(-2.0);
  joint[2].narrow(0, D, D).copy_(skeleton->velocity_upper_bound());  // at the velocity bound
  auto muscle = state.muscle.clone();
  muscle[3][0].copy_(reference->muscle()->min_activation());  // resting activation
  muscle[4][0].fill_(1.0);                                    // full activation
  auto action = torch::rand({batch, M}, options) * 1.4 - 0.2;  // some outside [a_min, 1]
  action[5].fill_(1.0);
  action[6].fill_(0.0);
  auto endpoint_load = torch::randn({batch, S}, options);
  auto joint_load = torch::randn({batch, D}, options) * 0.5;
  return {{joint, muscle, state.geometry.clone(), action, endpoint_load, joint_load}};
}

struct StepOutputs {
  std::vector<torch::Tensor> values;     // joint, cartesian, muscle, geometry
  std::vector<torch::Tensor> gradients;  // of a random weighting of the outputs, for each input
};

StepOutputs step_and_differentiate(const Effector& effector, const StepInputs& in, bool with_loads) {
  std::vector<torch::Tensor> x;
  for (const auto& t : in.tensors) x.push_back(t.detach().clone().requires_grad_(true));
  EffectorState state{x[0], effector->skeleton()->joint_to_cartesian(x[0]).detach(), x[1], x[2]};
  auto next = with_loads ? effector->step(state, x[3], x[4], x[5]) : effector->step(state, x[3]);
  StepOutputs out;
  out.values = {next.joint, next.cartesian, next.muscle, next.geometry};
  torch::manual_seed(11);
  auto objective = torch::zeros({}, x[0].options());
  for (const auto& v : out.values) objective = objective + (v * torch::randn_like(v)).sum();
  auto inputs = with_loads ? x : std::vector<torch::Tensor>(x.begin(), x.begin() + 4);
  out.gradients = torch::autograd::grad({objective}, inputs, {}, false, false, /*allow_unused=*/true);
  return out;
}

class FusedStep : public ::testing::TestWithParam<FusedCase> {};

TEST_P(FusedStep, EqualsOpByOpInValuesAndGradients) {
  const auto& c = GetParam();
  const char* names[] = {"joint", "muscle", "geometry", "action", "endpoint load", "joint load"};
  const char* outputs[] = {"joint", "cartesian", "muscle", "geometry"};
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    auto reference = build(c, "op-by-op", dtype);
    auto fused = build(c, "fused", dtype);
    ASSERT_FALSE(reference->uses_fused_kernels());
    ASSERT_TRUE(fused->uses_fused_kernels());
    // float32: the op-by-op path rounds every intermediate to float32, the fused one computes in double.
    const double tolerance = dtype == torch::kFloat64 ? 1e-10 : 2e-4;
    auto inputs = random_inputs(reference, 16, dtype);
    for (bool with_loads : {true, false}) {
      auto expected = step_and_differentiate(reference, inputs, with_loads);
      auto actual = step_and_differentiate(fused, inputs, with_loads);
      std::string where = fmt::format("{} {} loads={}", c.name, dtype == torch::kFloat64 ? "float64" : "float32",
                                      with_loads);
      for (size_t i = 0; i < expected.values.size(); ++i) {
        EXPECT_EQ(actual.values[i].scalar_type(), dtype);
        EXPECT_WITHIN(actual.values[i], expected.values[i], tolerance, tolerance, where << " " << outputs[i]);
      }
      for (size_t i = 0; i < expected.gradients.size(); ++i) {
        ASSERT_TRUE(actual.gradients[i].defined()) << where << " d/d " << names[i];
        auto reference_gradient = expected.gradients[i].defined() ? expected.gradients[i]
                                                                  : torch::zeros_like(actual.gradients[i]);
        // Gradients pass through divisions by small masses and moment arms: scale the bound with their size.
        const double scale = 1.0 + reference_gradient.abs().max().item<double>();
        EXPECT_WITHIN(actual.gradients[i], reference_gradient, tolerance * scale, tolerance,
                      where << " d/d " << names[i]);
      }
    }
  }
}

TEST_P(FusedStep, ResetStatesEqualOpByOp) {
  const auto& c = GetParam();
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    auto reference = build(c, "op-by-op", dtype), fused = build(c, "fused", dtype);
    auto joint = random_inputs(reference, 16, dtype).tensors[0];  // includes rows on the bounds
    auto expected = reference->reset(16, joint), actual = fused->reset(16, joint);
    // float32: the op-by-op path rounds each intermediate (a path's muscle length is a difference of point
    // positions, then steep force curves), the fused one computes in double.
    const double tolerance = dtype == torch::kFloat64 ? 1e-12 : 1e-4;
    std::string where = fmt::format("{} {}", c.name, dtype == torch::kFloat64 ? "float64" : "float32");
    EXPECT_TRUE(torch::equal(actual.joint, expected.joint)) << where << " joint";
    EXPECT_WITHIN(actual.cartesian, expected.cartesian, tolerance, tolerance, where << " cartesian");
    EXPECT_WITHIN(actual.muscle, expected.muscle, tolerance, tolerance, where << " muscle");
    EXPECT_WITHIN(actual.geometry, expected.geometry, tolerance, tolerance, where << " geometry");
    // A joint state that needs a gradient keeps the differentiable op-by-op reset.
    auto differentiable = fused->reset(16, joint.clone().requires_grad_(true));
    EXPECT_TRUE(differentiable.cartesian.requires_grad()) << where;
  }
}

TEST(FusedKernels, ResetKeepsEachModelsOwnRestState) {
  // ReluMuscle rests with zero force even above zero minimum activation (its own initial_state).
  auto build_with = [](const char* kernels) {
    return make_preset("ReluPointMass24", make_muscle("ReluMuscle", {{"min_activation", 0.05}}),
                       EffectorOptions().kernels(parse_kernel_choice(kernels)));
  };
  auto joint = torch::tensor({{0.1, -0.2, 0.0, 0.0}, {0.3, 0.4, 0.0, 0.0}});
  auto expected = build_with("op-by-op")->reset(2, joint), actual = build_with("fused")->reset(2, joint);
  EXPECT_WITHIN(actual.muscle, expected.muscle, 1e-6, 1e-6, "muscle state at rest");
  EXPECT_GT(actual.muscle.select(1, 0).min().item<double>(), 0.04);  // the minimum activation is there
}

TEST_P(FusedStep, StaysWithTheReferenceOverFiftySteps) {
  // Fifty steps chained: the fused path must not drift away from the reference.
  const auto& c = GetParam();
  auto reference = build(c, "op-by-op", torch::kFloat64);
  auto fused = build(c, "fused", torch::kFloat64);
  torch::manual_seed(3);
  auto a = reference->reset(8), b = a;
  for (int t = 0; t < 50; ++t) {
    auto action = torch::rand({8, reference->n_muscles()}, torch::kFloat64);
    a = reference->step(a, action);
    b = fused->step(b, action);
  }
  EXPECT_WITHIN(b.joint, a.joint, 1e-9, 1e-9, c.name << " joint after 50 steps");
  EXPECT_WITHIN(b.muscle, a.muscle, 1e-9, 1e-9, c.name << " muscle after 50 steps");
}

INSTANTIATE_TEST_SUITE_P(
    Models, FusedStep,
    ::testing::Values(FusedCase{"pm24_euler", "ReluPointMass24", "ReluMuscle", "euler", 1, 0.0},
                      FusedCase{"pm24_rk4_damped", "ReluPointMass24", "ReluMuscle", "rk4", 2, 0.3},
                      FusedCase{"arm26_rigid_euler", "RigidTendonArm26", "RigidTendonHillMuscle", "euler", 1, 0.0},
                      FusedCase{"arm26_rigid_rk4", "RigidTendonArm26", "RigidTendonHillMuscle", "rk4", 1, 0.0},
                      FusedCase{"arm26_rigid_euler_damped", "RigidTendonArm26", "RigidTendonHillMuscle", "euler", 3, 0.5},
                      FusedCase{"arm26_thelen_euler", "RigidTendonArm26", "RigidTendonHillMuscleThelen", "euler", 1, 0.0},
                      FusedCase{"arm26_thelen_rk4_damped", "RigidTendonArm26", "RigidTendonHillMuscleThelen", "rk4", 2, 0.5},
                      FusedCase{"arm26_mujoco_euler", "RigidTendonArm26", "MujocoHillMuscle", "euler", 1, 0.0},
                      FusedCase{"arm26_mujoco_rk4_damped", "RigidTendonArm26", "MujocoHillMuscle", "rk4", 2, 0.5},
                      FusedCase{"arm26_compliant_euler", "CompliantTendonArm26", "CompliantTendonHillMuscle", "euler", 1, 0.0},
                      FusedCase{"arm26_compliant_rk4_damped", "CompliantTendonArm26", "CompliantTendonHillMuscle", "rk4", 2, 0.5},
                      FusedCase{"patharm_rigid_euler", "PathArm", "RigidTendonHillMuscle", "euler", 1, 0.0},
                      FusedCase{"patharm_rigid_rk4_damped", "PathArm", "RigidTendonHillMuscle", "rk4", 2, 0.5},
                      FusedCase{"reacher_rigid_rk4", "Reacher", "ReluMuscle", "rk4", 1, 0.0},
                      FusedCase{"freepm24_euler", "FreePointMass24", "ReluMuscle", "euler", 2, 0.2}),
    [](const auto& info) { return info.param.name; });

// Each muscle kernel against its model's ode and integrate over a sweep of normalised lengths (0.3 to 1.8; the
// fibre length of the compliant tendon too), velocities of both signs, activations across q_crit and, for the
// compliant tendon, active forces below and above the isometric force (both branches of its velocity), so
// every piece of every force curve (and the joins between them) is exercised.
TEST(FusedKernels, MuscleKernelsEqualTheirModelsAcrossTheirCurves) {
  for (const char* name : {"RigidTendonHillMuscle", "RigidTendonHillMuscleThelen", "MujocoHillMuscle",
                           "CompliantTendonHillMuscle"}) {
    const bool compliant = std::string(name) == "CompliantTendonHillMuscle";
    auto effector = make_preset(compliant ? "CompliantTendonArm26" : "RigidTendonArm26", make_muscle(name),
                                EffectorOptions().kernels(KernelChoice::kOpByOp));
    effector->to(torch::kFloat64);
    const auto& muscle = effector->muscle();
    auto kernel = muscle->fused_kernel();
    ASSERT_TRUE(kernel) << name;
    const int64_t B = 301, M = muscle->n_muscles(), K = muscle->n_states(), G = 2 + effector->dof();
    const int64_t ND = muscle->n_derivatives();
    ASSERT_EQ(kernel->n_derivatives(), ND) << name;
    const auto names = muscle->parameter_names();
    auto has = [&](const char* p) { return std::find(names.begin(), names.end(), p) != names.end(); };
    auto l0 = has("optimal_muscle_length") ? muscle->parameter("optimal_muscle_length") : torch::ones({M}, torch::kFloat64);
    auto lt = has("tendon_length") ? muscle->parameter("tendon_length") : torch::zeros({M}, torch::kFloat64);
    torch::manual_seed(31);
    auto normalised = torch::linspace(0.3, 1.8, B, torch::kFloat64).unsqueeze(1);
    auto speed = torch::linspace(-3.0, 3.0, B, torch::kFloat64).flip(0).unsqueeze(1);  // in optimal lengths/s
    auto geometry = torch::randn({B, G, M}, torch::kFloat64);
    // A tendon stretched by 0-5% over the fibre (tendon forces from slack to the clamp at 1).
    geometry.select(1, 0).copy_(lt * (1.0 + 0.05 * torch::rand({B, M}, torch::kFloat64)) + l0 * normalised);
    geometry.select(1, 1).copy_(l0 * speed);
    auto state = torch::rand({B, K, M}, torch::kFloat64), derivative = torch::randn({B, ND, M}, torch::kFloat64);
    state.select(1, 1).copy_(l0 * normalised);                                     // fibre / muscle length
    state.select(1, 5).copy_(torch::linspace(0.0, 1.5, B, torch::kFloat64).unsqueeze(1).expand({B, M}));
    auto excitation = torch::rand({B, M}, torch::kFloat64) * 1.2 - 0.1;
    auto weights = torch::randn({B, K, M}, torch::kFloat64), ode_weights = torch::randn({B, ND, M}, torch::kFloat64);
    const double h = 0.01;

    std::vector<torch::Tensor> leaves = {derivative.clone().requires_grad_(true), state.clone().requires_grad_(true),
                                         geometry.clone().requires_grad_(true), excitation.clone().requires_grad_(true)};
    auto expected = muscle->integrate(h, leaves[0], leaves[1], leaves[2]);
    auto expected_grads =
        torch::autograd::grad({(expected * weights).sum()}, {leaves[0], leaves[1], leaves[2]}, {}, false, false, true);
    auto expected_ode = muscle->ode(leaves[3], leaves[1]);
    auto expected_ode_grads =
        torch::autograd::grad({(expected_ode * ode_weights).sum()}, {leaves[3], leaves[1]}, {}, false, false, true);

    auto actual = torch::empty_like(expected), actual_ode = torch::empty_like(expected_ode);
    std::vector<torch::Tensor> actual_grads = {torch::zeros_like(derivative), torch::zeros_like(state),
                                               torch::zeros_like(geometry)};
    std::vector<torch::Tensor> actual_ode_grads = {torch::zeros_like(excitation), torch::zeros_like(state)};
    for (int64_t b = 0; b < B; ++b) {
      kernel->integrate(h, derivative[b].data_ptr<double>(), state[b].data_ptr<double>(), geometry[b].data_ptr<double>(),
                        actual[b].data_ptr<double>());
      kernel->integrate_vjp(h, derivative[b].data_ptr<double>(), state[b].data_ptr<double>(),
                            geometry[b].data_ptr<double>(), weights[b].data_ptr<double>(),
                            actual_grads[0][b].data_ptr<double>(), actual_grads[1][b].data_ptr<double>(),
                            actual_grads[2][b].data_ptr<double>());
      kernel->ode(excitation[b].data_ptr<double>(), state[b].data_ptr<double>(), actual_ode[b].data_ptr<double>());
      kernel->ode_vjp(excitation[b].data_ptr<double>(), state[b].data_ptr<double>(), ode_weights[b].data_ptr<double>(),
                      actual_ode_grads[0][b].data_ptr<double>(), actual_ode_grads[1][b].data_ptr<double>());
    }
    EXPECT_WITHIN(actual, expected.detach(), 1e-10, 1e-10, name << " values");
    const char* inputs[] = {"derivative", "state", "geometry"};
    for (size_t i = 0; i < 3; ++i) {
      auto reference = expected_grads[i].defined() ? expected_grads[i] : torch::zeros_like(actual_grads[i]);
      EXPECT_WITHIN(actual_grads[i], reference, 1e-9, 1e-9, name << " d/d" << inputs[i]);
    }
    EXPECT_WITHIN(actual_ode, expected_ode.detach(), 1e-10, 1e-10, name << " ode values");
    const char* ode_inputs[] = {"excitation", "state"};
    for (size_t i = 0; i < 2; ++i) {
      auto reference = expected_ode_grads[i].defined() ? expected_ode_grads[i] : torch::zeros_like(actual_ode_grads[i]);
      const double scale = 1.0 + reference.abs().max().item<double>();
      EXPECT_WITHIN(actual_ode_grads[i], reference, 1e-9 * scale, 1e-9, name << " ode d/d" << ode_inputs[i]);
    }
    if (compliant) {  // both branches of the velocity were taken
      auto rate = expected_ode.select(1, 1);
      EXPECT_GT((rate < 0).sum().item<int64_t>(), 0);
      EXPECT_GT((rate > 0).sum().item<int64_t>(), 0);
    }
  }
}

TEST(FusedKernels, GradientsArrivingAsStridedViewsOfAStackedRecordAreReadInPlace) {
  // As in a rollout: the states of several steps stacked, the loss on a slice, so each step's output gradients
  // are strided views of one tensor.
  auto run = [](const char* kernels) {
    auto effector = make_preset("RigidTendonArm26", nullptr, EffectorOptions().kernels(parse_kernel_choice(kernels)));
    effector->to(torch::kFloat64);
    torch::manual_seed(9);
    auto actions = torch::rand({4, 8, 6}, torch::kFloat64).requires_grad_(true);
    auto state = effector->reset(8);
    std::vector<torch::Tensor> cartesian, joint;
    for (int64_t t = 0; t < 4; ++t) {
      state = effector->step(state, actions[t]);
      cartesian.push_back(state.cartesian);
      joint.push_back(state.joint);
    }
    auto record = torch::stack(cartesian, 1), joints = torch::stack(joint, 1);
    auto loss = record.narrow(2, 0, 2).pow(2).sum() + joints.narrow(2, 2, 2).pow(2).sum();
    return torch::autograd::grad({loss}, {actions})[0];
  };
  EXPECT_WITHIN(run("fused"), run("op-by-op"), 1e-9, 1e-9, "d loss / d actions");
}

// A user model written in tensor operations, without an equation set: the ReLU muscle stepped with twice the
// step (a subclass of a built-in cannot change its equations: EquationMuscleImpl's ode/integrate are final).
struct DoubledRelu : MuscleImpl {
  std::string type_name() const override { return "ReluMuscle"; }  // what the preset accepts
  std::vector<std::string> state_names() const override {
    return {"activation", "muscle length", "muscle velocity", "force"};
  }
  std::vector<MuscleParameterSpec> parameter_specs() const override { return ReluMuscleImpl().parameter_specs(); }
  torch::Tensor ode(const torch::Tensor& excitation, const torch::Tensor& muscle_state) const override {
    return activation_derivative(excitation, muscle_state.select(1, 0)).unsqueeze(1);
  }
  torch::Tensor integrate(double h, const torch::Tensor& derivative, const torch::Tensor& muscle_state,
                          const torch::Tensor& geometry_state) const override {
    auto a = integrate_activation(2.0 * h, derivative, muscle_state);
    return stack_rows({a, geometry_state.select(1, 0), geometry_state.select(1, 1),
                       a * parameter("max_isometric_force")});
  }
  torch::Tensor proprioceptive_length_scale() const override { return torch::ones_like(min_activation()); }
  torch::Tensor proprioceptive_velocity_scale() const override { return torch::ones_like(min_activation()); }
};

// A subclass of a built-in model that keeps its equations (here it only adds a convenience).
struct ExtendedRelu : ReluMuscleImpl {
  torch::Tensor peak_force() const { return parameter("max_isometric_force"); }
};

TEST(FusedKernels, AutoFallsBackOpByOpForModelsWithoutAKernel) {
  auto custom = make_relu_point_mass24(std::make_shared<DoubledRelu>());
  EXPECT_EQ(custom->kernel_choice(), KernelChoice::kAuto);
  for (const char* muscle : {"RigidTendonHillMuscle", "RigidTendonHillMuscleThelen", "MujocoHillMuscle"})
    EXPECT_TRUE(make_preset("RigidTendonArm26", make_muscle(muscle))->uses_fused_kernels()) << muscle;
  EXPECT_TRUE(make_preset("CompliantTendonArm26")->uses_fused_kernels());
  EXPECT_TRUE(make_preset("ReluPointMass24")->uses_fused_kernels());
  EXPECT_TRUE(path_arm("RigidTendonHillMuscle")->uses_fused_kernels());
  EXPECT_FALSE(custom->uses_fused_kernels());
}

TEST(FusedKernels, ASubclassOfABuiltInMuscleKeepsItsKernel) {
  auto extended = make_relu_point_mass24(std::make_shared<ExtendedRelu>());
  EXPECT_TRUE(extended->uses_fused_kernels());
  auto parent = make_relu_point_mass24(nullptr, EffectorOptions().kernels(KernelChoice::kOpByOp));
  auto joint = torch::tensor({{0.1, 0.1, 0.0, 0.0}});
  auto a = extended->step(extended->reset(1, joint), torch::full({1, 4}, 0.5)).muscle;
  auto b = parent->step(parent->reset(1, joint), torch::full({1, 4}, 0.5)).muscle;
  EXPECT_WITHIN(a, b, 1e-6, 1e-6, "extended ReLU muscle state");
}

TEST(FusedKernels, AUserMuscleModelStepsOpByOpWithItsOwnEquations) {
  auto effector = make_relu_point_mass24(std::make_shared<DoubledRelu>());
  EXPECT_FALSE(effector->uses_fused_kernels());
  // ... and steps with its own equations: twice the activation change of the parent in one step from rest.
  auto parent = make_relu_point_mass24(nullptr, EffectorOptions().kernels(KernelChoice::kOpByOp));
  auto joint = torch::tensor({{0.1, 0.1, 0.0, 0.0}});
  auto a = effector->step(effector->reset(1, joint), torch::full({1, 4}, 0.5)).muscle.select(1, 0);
  auto b = parent->step(parent->reset(1, joint), torch::full({1, 4}, 0.5)).muscle.select(1, 0);
  EXPECT_GT((a - b).abs().max().item<double>(), 1e-3);
}

TEST(FusedKernels, FusedOnAModelWithoutAKernelIsAClearError) {
  auto effector = make_relu_point_mass24(std::make_shared<DoubledRelu>(), EffectorOptions().kernels(KernelChoice::kFused));
  try {  // raised by the reset already (before any episode runs), else by the first step
    auto state = effector->reset(2);
    effector->step(state, torch::zeros({2, 4}));
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("muscle model has no fused kernel"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("kernels"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_kernel_choice("fastest"), InputError);  // a name that is no kernel choice
}

TEST(FusedKernels, CompliantTendonRestStateOfANegativePathIsTheSameInputError) {
  // A musculotendon length below zero has no rest state: the kernel names the problem as the model does.
  auto effector = make_preset("CompliantTendonArm26", nullptr, EffectorOptions().kernels(KernelChoice::kOpByOp));
  effector->to(torch::kFloat64);
  const auto& muscle = effector->muscle();
  auto geometry = effector->geometry()->forward(torch::zeros({1, 4}, torch::kFloat64)).contiguous();
  geometry[0][0][2] = -0.01;
  std::string op_by_op, fused;
  try {
    muscle->initial_state(geometry);
  } catch (const InputError& e) {
    op_by_op = e.what();
  }
  std::vector<double> state(muscle->n_states() * muscle->n_muscles());
  try {
    muscle->fused_kernel()->initial_state(effector->ministep(), geometry[0].data_ptr<double>(), state.data());
  } catch (const InputError& e) {
    fused = e.what();
  }
  EXPECT_NE(op_by_op.find("musculotendon length of a compliant-tendon muscle is negative"), std::string::npos)
      << op_by_op;
  EXPECT_EQ(fused, op_by_op);
}

TEST(FusedKernels, KernelsFollowParameterChanges) {
  // The cached kernel is rebuilt when a buffer changes: new bounds take effect on the next step.
  auto effector = make_preset("ReluPointMass24", nullptr, EffectorOptions().kernels(KernelChoice::kFused));
  auto state = effector->reset(1, torch::tensor({{0.0, 0.0, 1.0, 0.0}}));
  effector->skeleton()->set_bounds(std::vector<double>{-0.001}, std::vector<double>{0.001}, std::nullopt, std::nullopt);
  auto next = effector->step(state, torch::zeros({1, 4}));
  EXPECT_LE(next.joint[0][0].item<double>(), 0.001 + 1e-7);
}

TEST(FusedGruCell, EqualsTorchGruCellInValuesAndGradients) {
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    torch::manual_seed(5);
    const int64_t B = 9, I = 7, H = 5;
    auto options = torch::TensorOptions().dtype(dtype);
    std::vector<torch::Tensor> x = {torch::randn({B, I}, options), torch::randn({B, H}, options),
                                    torch::randn({3 * H, I}, options), torch::randn({3 * H, H}, options),
                                    torch::randn({3 * H}, options), torch::randn({3 * H}, options)};
    auto weights = torch::randn({B, H}, options);
    auto run = [&](bool fused) {
      std::vector<torch::Tensor> inputs;
      for (const auto& t : x) inputs.push_back(t.clone().requires_grad_(true));
      auto h = fused ? fused_gru_cell(inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], inputs[5])
                     : at::gru_cell(inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], inputs[5]);
      auto grads = torch::autograd::grad({(h * weights).sum()}, inputs);
      grads.insert(grads.begin(), h);
      return grads;
    };
    auto expected = run(false), actual = run(true);
    const double tolerance = dtype == torch::kFloat64 ? 1e-12 : 1e-5;
    const char* names[] = {"h'", "d/dx", "d/dh", "d/dW_ih", "d/dW_hh", "d/db_ih", "d/db_hh"};
    for (size_t i = 0; i < expected.size(); ++i)
      EXPECT_WITHIN(actual[i], expected[i], tolerance, tolerance, names[i] << (dtype == torch::kFloat64 ? " f64" : " f32"));
  }
}

TEST(FusedSigmoidLinear, EqualsSigmoidOfAddmmInValuesAndGradients) {
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    torch::manual_seed(6);
    auto options = torch::TensorOptions().dtype(dtype);
    std::vector<torch::Tensor> x = {torch::randn({9, 7}, options), torch::randn({4, 7}, options),
                                    torch::randn({4}, options)};
    auto weights = torch::randn({9, 4}, options);
    auto run = [&](bool fused) {
      std::vector<torch::Tensor> inputs;
      for (const auto& t : x) inputs.push_back(t.clone().requires_grad_(true));
      auto y = fused ? fused_sigmoid_linear(inputs[0], inputs[1], inputs[2])
                     : torch::sigmoid(torch::addmm(inputs[2], inputs[0], inputs[1].t()));
      auto grads = torch::autograd::grad({(y * weights).sum()}, inputs);
      grads.insert(grads.begin(), y);
      return grads;
    };
    auto expected = run(false), actual = run(true);
    const double tolerance = dtype == torch::kFloat64 ? 1e-12 : 1e-5;
    const char* names[] = {"y", "d/dx", "d/dW", "d/db"};
    for (size_t i = 0; i < expected.size(); ++i) EXPECT_WITHIN(actual[i], expected[i], tolerance, tolerance, names[i]);
  }
}

TEST(FusedKernels, DoubleBackwardIsRefusedNotSilentlyZero) {
  auto effector = make_preset("ReluPointMass24", nullptr, EffectorOptions().kernels(KernelChoice::kFused));
  auto state = effector->reset(2);
  auto action = torch::full({2, 4}, 0.5, torch::requires_grad());
  auto next = effector->step(state, action);
  try {
    torch::autograd::grad({next.joint.sum()}, {action}, {}, /*retain_graph=*/true, /*create_graph=*/true);
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("op-by-op"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace motornet
