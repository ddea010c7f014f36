// Finite-difference checks (float64) of autograd gradients through every muscle model, both skeletons, path
// geometry and full effector steps (Euler and RK4, with ministeps, loads and damping).

#include <gtest/gtest.h>

#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

using testing::worst_gradient_error;
constexpr double kTolerance = 1e-6;

std::vector<MuscleEntry> three_muscles() {
  return {{"a", {{"max_isometric_force", 500}, {"tendon_length", 0.10}, {"optimal_muscle_length", 0.10}}, ""},
          {"b", {{"max_isometric_force", 800}, {"tendon_length", 0.05}, {"optimal_muscle_length", 0.12}}, ""},
          {"c", {{"max_isometric_force", 300}, {"tendon_length", 0.15}, {"optimal_muscle_length", 0.08}}, ""}};
}

Muscle built(const std::string& type) {
  auto muscle = make_muscle(type);
  auto entries = three_muscles();
  if (type == "ReluMuscle")
    for (auto& entry : entries) entry.parameters = {{"max_isometric_force", 400}};
  muscle->build(entries, 0.01);
  muscle->to(torch::kFloat64);
  return muscle;
}

// A geometry [B, 2+D, M] with fibre lengths around the optimal length and velocities of both signs.
torch::Tensor sample_geometry(const Muscle& muscle, int64_t batch) {
  torch::manual_seed(7);
  const int64_t M = muscle->n_muscles();
  auto optimal = muscle->type_name() == "ReluMuscle" ? torch::full({M}, 0.1, torch::kFloat64)
                                                     : muscle->parameter("optimal_muscle_length");
  auto tendon = muscle->type_name() == "ReluMuscle" ? torch::zeros({M}, torch::kFloat64) : muscle->parameter("tendon_length");
  auto length = tendon + optimal * (0.75 + 0.5 * torch::rand({batch, M}, torch::kFloat64));
  auto velocity = optimal * (torch::rand({batch, M}, torch::kFloat64) - 0.5);
  auto moments = 0.05 * torch::randn({batch, 2, M}, torch::kFloat64);
  return torch::cat({length.unsqueeze(1), velocity.unsqueeze(1), moments}, 1);
}

// The rest state of `muscle` for `geometry`, with activations moved into the interior of [a_min, 1] so that no
// clip is active where the finite differences probe.
torch::Tensor interior_state(const Muscle& muscle, const torch::Tensor& geometry) {
  auto rows = muscle->initial_state(geometry).detach().unbind(1);
  rows[0] = 0.2 + 0.5 * torch::rand_like(rows[0]);
  return torch::stack(rows, 1);
}

class MuscleGradient : public ::testing::TestWithParam<std::string> {};

TEST_P(MuscleGradient, IntegrateMatchesFiniteDifferences) {
  auto muscle = built(GetParam());
  auto geometry = sample_geometry(muscle, 3);
  auto state = interior_state(muscle, geometry);
  auto derivative = 0.5 * torch::randn({3, muscle->n_derivatives(), muscle->n_muscles()}, torch::kFloat64);
  double error = worst_gradient_error(
      [&](const std::vector<torch::Tensor>& x) { return muscle->integrate(0.01, x[0], x[1], x[2]); },
      {derivative, state, geometry});
  EXPECT_LT(error, kTolerance);
}

TEST_P(MuscleGradient, OdeMatchesFiniteDifferences) {
  auto muscle = built(GetParam());
  auto geometry = sample_geometry(muscle, 3);
  auto state = interior_state(muscle, geometry);
  auto excitation = 0.1 + 0.8 * torch::rand({3, muscle->n_muscles()}, torch::kFloat64);
  double error = worst_gradient_error(
      [&](const std::vector<torch::Tensor>& x) { return muscle->ode(x[0], x[1]); }, {excitation, state});
  EXPECT_LT(error, kTolerance);
}

TEST_P(MuscleGradient, InitialStateMatchesFiniteDifferences) {
  auto muscle = built(GetParam());
  auto geometry = sample_geometry(muscle, 2);
  double error = worst_gradient_error(
      [&](const std::vector<torch::Tensor>& x) { return muscle->initial_state(x[0]); }, {geometry});
  EXPECT_LT(error, kTolerance);
}

INSTANTIATE_TEST_SUITE_P(Models, MuscleGradient,
                         ::testing::Values("ReluMuscle", "RigidTendonHillMuscle", "RigidTendonHillMuscleThelen",
                                           "MujocoHillMuscle", "CompliantTendonHillMuscle"),
                         [](const auto& info) { return info.param; });

TEST(SkeletonGradient, TwoDofArmOdeAndKinematics) {
  auto arm = std::make_shared<TwoDofArmImpl>(TwoDofArmOptions().viscosity(0.2));
  arm->to(torch::kFloat64);
  auto joint = torch::tensor({{0.7, 1.1, 0.4, -0.8}, {1.2, 0.5, -1.0, 2.0}}, torch::kFloat64);
  auto tau = torch::tensor({{1.0, -2.0}, {0.3, 0.5}}, torch::kFloat64);
  auto load = torch::tensor({{3.0, -1.0}, {-2.0, 4.0}}, torch::kFloat64);
  EXPECT_LT(worst_gradient_error([&](const std::vector<torch::Tensor>& x) { return arm->ode(x[0], x[1], x[2]); },
                                 {tau, joint, load}),
            kTolerance);
  EXPECT_LT(worst_gradient_error([&](const std::vector<torch::Tensor>& x) { return arm->joint_to_cartesian(x[0]); },
                                 {joint}),
            kTolerance);
}

TEST(SkeletonGradient, PointMassOde) {
  auto mass = std::make_shared<PointMassImpl>(PointMassOptions().space_dim(3).mass(2.5));
  mass->to(torch::kFloat64);
  auto joint = torch::randn({2, 6}, torch::kFloat64) * 0.3;
  auto tau = torch::randn({2, 3}, torch::kFloat64);
  auto load = torch::randn({2, 3}, torch::kFloat64);
  EXPECT_LT(worst_gradient_error([&](const std::vector<torch::Tensor>& x) { return mass->ode(x[0], x[1], x[2]); },
                                 {tau, joint, load}),
            kTolerance);
}

TEST(GeometryGradient, PathGeometryOnTheArmMatchesFiniteDifferences) {
  auto arm = std::make_shared<TwoDofArmImpl>();
  std::vector<MusclePath> paths = {{{0, 1}, {{-0.05, 0.0}, {0.1, 0.02}}},
                                   {{1, 1, 2}, {{0.1, -0.02}, {0.3, -0.03}, {-0.02, -0.02}}},
                                   {{0, 2}, {{-0.04, 0.01}, {0.06, 0.02}}}};
  auto geometry = std::make_shared<PathGeometryImpl>(arm, paths);
  arm->to(torch::kFloat64);
  geometry->to(torch::kFloat64);
  auto joint = torch::tensor({{0.7, 1.1, 0.4, -0.8}, {1.2, 0.5, -1.0, 2.0}}, torch::kFloat64);
  EXPECT_LT(worst_gradient_error([&](const std::vector<torch::Tensor>& x) { return geometry->forward(x[0]); }, {joint}),
            kTolerance);
}

TEST(GeometryGradient, MomentArmsAreThePathLengthDerivatives) {
  // SPEC §1: row 2+d is dL/dq_d and row 1 is dL/dt; check both against finite differences of the length.
  auto mass = std::make_shared<PointMassImpl>(PointMassOptions().space_dim(3));
  std::vector<MusclePath> paths = {{{0, 1}, {{1.0, 2.0, -1.0}, {0.1, 0.0, 0.05}}},
                                   {{0, 1, 1}, {{-2.0, 0.5, 1.0}, {0.0, 0.1, 0.0}, {0.05, -0.1, 0.0}}}};
  auto geometry = std::make_shared<PathGeometryImpl>(mass, paths);
  mass->to(torch::kFloat64);
  geometry->to(torch::kFloat64);
  auto joint = torch::tensor({{0.2, -0.3, 0.1, 0.5, -0.4, 0.3}}, torch::kFloat64);
  auto state = geometry->forward(joint);
  const double eps = 1e-6;
  for (int64_t d = 0; d < 3; ++d) {
    auto plus = joint.clone(), minus = joint.clone();
    plus[0][d] += eps;
    minus[0][d] -= eps;
    auto derivative = (geometry->forward(plus)[0][0] - geometry->forward(minus)[0][0]) / (2 * eps);
    EXPECT_TRUE(torch::allclose(state[0][2 + d], derivative, 1e-7, 1e-8)) << "dof " << d;
  }
  auto later = joint.clone();
  later.narrow(1, 0, 3).add_(eps * joint.narrow(1, 3, 3));
  auto earlier = joint.clone();
  earlier.narrow(1, 0, 3).sub_(eps * joint.narrow(1, 3, 3));
  auto rate = (geometry->forward(later)[0][0] - geometry->forward(earlier)[0][0]) / (2 * eps);
  EXPECT_TRUE(torch::allclose(state[0][1], rate, 1e-7, 1e-8));
}

struct StepCase {
  std::string name, preset, muscle, method;
  int64_t ministeps;
  // The compliant tendon is stiff (k_se = 625 F0 per unit strain): central differences lose ~5 digits to
  // curvature and round-off there, so its bound is looser. A wrong derivative shows up as an O(1) error.
  double tolerance = 1e-6;
};
void PrintTo(const StepCase& c, std::ostream* os) { *os << c.name; }

class EffectorStepGradient : public ::testing::TestWithParam<StepCase> {};

TEST_P(EffectorStepGradient, FullStepMatchesFiniteDifferences) {
  const auto& c = GetParam();
  auto options = EffectorOptions().timestep(0.01).integration_method(parse_integration_method(c.method)).n_ministeps(c.ministeps).damping(0.3);
  auto effector = make_preset(c.preset, make_muscle(c.muscle), options);
  effector->to(torch::kFloat64);
  const int64_t D = effector->dof();
  torch::Tensor joint = D == 2 && c.preset != "ReluPointMass24" && c.preset != "FreePointMass24"
                            ? torch::tensor({{0.8, 1.2, 0.5, -0.3}, {1.1, 0.7, -0.4, 0.6}}, torch::kFloat64)
                            : torch::tensor({{0.2, -0.1, 0.3, 0.2}, {-0.3, 0.25, -0.2, 0.1}}, torch::kFloat64);
  auto action = torch::tensor({{0.3, 0.6, 0.2, 0.5, 0.4, 0.7}, {0.5, 0.1, 0.6, 0.2, 0.8, 0.3}}, torch::kFloat64)
                    .narrow(1, 0, effector->n_muscles());
  auto endpoint_load = torch::tensor({{1.0, -2.0}, {0.5, 0.5}}, torch::kFloat64);
  auto joint_load = torch::tensor({{0.1, -0.2}, {0.0, 0.3}}, torch::kFloat64);
  auto rollout = [&](const std::vector<torch::Tensor>& x) {
    auto state = effector->reset(2, x[0]);
    for (int t = 0; t < 3; ++t) state = effector->step(state, x[1], x[2], x[3]);
    return torch::cat({state.joint.flatten(), state.cartesian.flatten(), state.muscle.flatten(), state.geometry.flatten()});
  };
  EXPECT_LT(worst_gradient_error(rollout, {joint, action, endpoint_load, joint_load}, /*eps=*/1e-5), c.tolerance);
}

INSTANTIATE_TEST_SUITE_P(
    Steps, EffectorStepGradient,
    ::testing::Values(StepCase{"arm26_rigid_euler", "RigidTendonArm26", "RigidTendonHillMuscle", "euler", 1},
                      StepCase{"arm26_rigid_rk4", "RigidTendonArm26", "RigidTendonHillMuscle", "rk4", 2},
                      StepCase{"arm26_thelen_rk4", "RigidTendonArm26", "RigidTendonHillMuscleThelen", "rk4", 1},
                      StepCase{"arm26_mujoco_euler", "RigidTendonArm26", "MujocoHillMuscle", "euler", 2},
                      StepCase{"arm26_compliant_rk4", "CompliantTendonArm26", "CompliantTendonHillMuscle", "rk4", 5, 3e-5},
                      StepCase{"arm26_compliant_euler", "CompliantTendonArm26", "CompliantTendonHillMuscle", "euler", 10, 3e-5},
                      StepCase{"pm24_euler", "ReluPointMass24", "ReluMuscle", "euler", 1},
                      StepCase{"pm24_rk4", "ReluPointMass24", "ReluMuscle", "rk4", 1},
                      StepCase{"reacher_rk4", "Reacher", "ReluMuscle", "rk4", 1},
                      StepCase{"freepm24_euler", "FreePointMass24", "ReluMuscle", "euler", 1}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace motornet
