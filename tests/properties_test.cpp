// Physical and structural properties: batch independence, bounds, activation range, free motion of a point
// mass, the pull of a single muscle, reset semantics, dtype conversion, rebuild by add_muscle.

#include <gtest/gtest.h>

#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

TEST(Properties, RowsOfABatchAreIndependent) {
  for (const char* preset : {"RigidTendonArm26", "CompliantTendonArm26", "ReluPointMass24"}) {
    auto effector = make_preset(preset);
    effector->to(torch::kFloat64);
    auto joint = std::string(preset) == "ReluPointMass24"
                     ? torch::tensor({{0.1, 0.2, 0.0, 0.0}, {-0.4, 0.3, 0.5, -0.2}, {0.6, -0.6, -1.0, 0.0}}, torch::kFloat64)
                     : torch::tensor({{0.5, 1.0, 0.0, 0.0}, {1.0, 0.4, 0.5, -0.2}, {0.8, 1.5, -1.0, 0.0}}, torch::kFloat64);
    torch::manual_seed(3);
    auto actions = torch::rand({20, 3, effector->n_muscles()}, torch::kFloat64);
    auto batch = effector->reset(3, joint);
    std::vector<EffectorState> singles;
    for (int64_t i = 0; i < 3; ++i) singles.push_back(effector->reset(1, joint.narrow(0, i, 1)));
    for (int64_t t = 0; t < 20; ++t) {
      batch = effector->step(batch, actions[t]);
      for (int64_t i = 0; i < 3; ++i) singles[i] = effector->step(singles[i], actions[t].narrow(0, i, 1));
    }
    for (int64_t i = 0; i < 3; ++i) {
      EXPECT_TRUE(torch::allclose(batch.joint.narrow(0, i, 1), singles[i].joint, 1e-12, 1e-12)) << preset << " row " << i;
      EXPECT_TRUE(torch::allclose(batch.muscle.narrow(0, i, 1), singles[i].muscle, 1e-12, 1e-12)) << preset << " row " << i;
    }
  }
}

TEST(Properties, BoundsHoldAndActivationStaysInRange) {
  for (const char* preset : {"RigidTendonArm26", "Reacher", "ReluPointMass24", "FreePointMass24"}) {
    auto effector = make_preset(preset);
    torch::manual_seed(11);
    auto state = effector->reset(16, std::nullopt);
    const auto& skeleton = effector->skeleton();
    const auto& a_min = effector->muscle()->min_activation();
    for (int t = 0; t < 150; ++t) {
      // Bang-bang random actions, beyond [0, 1] too, drive the limbs into their bounds.
      auto action = (torch::rand({16, effector->n_muscles()}) > 0.5).to(torch::kFloat32) * 3.0 - 1.0;
      state = effector->step(state, action);
      auto position = state.joint.narrow(1, 0, effector->dof());
      auto velocity = state.joint.narrow(1, effector->dof(), effector->dof());
      ASSERT_TRUE((position >= skeleton->position_lower_bound()).all().item<bool>()) << preset << " step " << t;
      ASSERT_TRUE((position <= skeleton->position_upper_bound()).all().item<bool>()) << preset << " step " << t;
      ASSERT_TRUE((velocity >= skeleton->velocity_lower_bound()).all().item<bool>()) << preset;
      ASSERT_TRUE((velocity <= skeleton->velocity_upper_bound()).all().item<bool>()) << preset;
      auto activation = state.muscle.select(1, 0);
      ASSERT_TRUE((activation >= a_min).all().item<bool>()) << preset << " step " << t;
      ASSERT_TRUE((activation <= 1.0).all().item<bool>()) << preset << " step " << t;
    }
  }
}

TEST(Properties, AtABoundVelocityIntoTheBoundIsZero) {
  // In float64, where 0.55 + 5 x 0.01 reaches the bound 0.6 (fused kernels compute rows in double, so in float32
  // a sum within round-off of a bound may fall on either side).
  for (const char* kernels : {"op-by-op", "fused"}) {
    auto effector = make_preset("FreePointMass24", nullptr, EffectorOptions().kernels(parse_kernel_choice(kernels)));
    effector->to(torch::kFloat64);
    auto state = effector->reset(1, torch::tensor({{0.55, 0.0, 5.0, 0.0}}, torch::kFloat64));
    state = effector->step(state, torch::zeros({1, 4}, torch::kFloat64));
    EXPECT_DOUBLE_EQ(state.joint[0][0].item<double>(), 0.6) << kernels;
    EXPECT_DOUBLE_EQ(state.joint[0][2].item<double>(), 0.0) << kernels;
  }
}

TEST(Properties, UnforcedUndampedPointMassKeepsItsVelocity) {
  auto skeleton = std::make_shared<PointMassImpl>(PointMassOptions().space_dim(3).mass(2.0));
  auto muscle = make_muscle("ReluMuscle", {{"max_isometric_force", 10.0}});
  Effector effector(skeleton, muscle, EffectorOptions().timestep(0.01).integration_method(IntegrationMethod::kRungeKutta4));
  effector->add_muscle({{0, 1}, {{5.0, 0.0, 0.0}, {0.0, 0.0, 0.0}}}, {"x", {}, ""});
  effector->to(torch::kFloat64);
  auto velocity = torch::tensor({0.3, -0.2, 0.1}, torch::kFloat64);
  auto state = effector->reset(1, torch::cat({torch::zeros({3}, torch::kFloat64), velocity}).unsqueeze(0));
  for (int t = 0; t < 100; ++t) state = effector->step(state, torch::zeros({1, 1}, torch::kFloat64));
  EXPECT_TRUE(torch::allclose(state.joint[0].narrow(0, 3, 3), velocity, 0, 1e-14));
  EXPECT_TRUE(torch::allclose(state.joint[0].narrow(0, 0, 3), velocity * 1.0, 0, 1e-12));  // 100 steps of 10 ms
}

TEST(Properties, ASingleActiveMusclePullsTowardsItsAnchor) {
  auto effector = make_relu_point_mass24();
  const std::vector<std::vector<float>> anchors = {{2, 2}, {-2, 2}, {2, -2}, {-2, -2}};
  for (int64_t m = 0; m < 4; ++m) {
    auto state = effector->reset(1, torch::zeros({1, 4}));
    auto action = torch::zeros({1, 4});
    action[0][m] = 1.0;
    for (int t = 0; t < 5; ++t) state = effector->step(state, action);
    auto displacement = state.fingertip()[0];
    auto anchor = torch::tensor(anchors[m]);
    auto cosine = (displacement * anchor).sum() / (displacement.norm() * anchor.norm());
    EXPECT_GT(displacement.norm().item<float>(), 1e-3) << "muscle " << m;
    EXPECT_NEAR(cosine.item<float>(), 1.0, 1e-5) << "muscle " << m;
  }
}

TEST(Properties, RandomResetIsUniformWithinBoundsAndSeeded) {
  auto effector = make_rigid_tendon_arm26();
  auto draw = [&](uint64_t seed) {
    auto generator = at::detail::createCPUGenerator(seed);
    return effector->reset(4000, std::nullopt, generator).joint;
  };
  auto joint = draw(5);
  EXPECT_TRUE(torch::equal(joint, draw(5)));
  EXPECT_FALSE(torch::equal(joint, draw(6)));
  auto position = joint.narrow(1, 0, 2);
  auto lower = effector->skeleton()->position_lower_bound();
  auto upper = effector->skeleton()->position_upper_bound();
  EXPECT_TRUE((position >= lower).all().item<bool>());
  EXPECT_TRUE((position <= upper).all().item<bool>());
  auto mean = position.mean(0);
  EXPECT_TRUE(torch::allclose(mean, (lower + upper) / 2, 0.03, 0.0));
  EXPECT_EQ(joint.narrow(1, 2, 2).abs().max().item<float>(), 0.0f);
}

TEST(Properties, PositionsOnlyJointStateMeansZeroVelocityAndIsTiled) {
  auto effector = make_rigid_tendon_arm26();
  auto state = effector->reset(5, torch::tensor({{0.7, 1.0}}));
  ASSERT_EQ(state.joint.sizes(), (std::vector<int64_t>{5, 4}));
  EXPECT_TRUE(torch::equal(state.joint[4], torch::tensor({0.7f, 1.0f, 0.0f, 0.0f})));
  auto given_batch = effector->reset(1, torch::tensor({{0.7, 1.0}, {0.3, 0.2}, {1.0, 1.0}}));
  EXPECT_EQ(given_batch.joint.size(0), 3);
}

TEST(Properties, ConvertsToFloat64AndBack) {
  auto effector = make_compliant_tendon_arm26();
  effector->to(torch::kFloat64);
  auto state = effector->reset(2, torch::tensor({{0.7, 1.0, 0.0, 0.0}}));
  EXPECT_EQ(state.muscle.scalar_type(), torch::kFloat64);
  for (const auto& buffer : effector->buffers()) EXPECT_EQ(buffer.scalar_type(), torch::kFloat64);
  effector->to(torch::kFloat32);
  state = effector->step(effector->reset(2, torch::tensor({{0.7, 1.0, 0.0, 0.0}})), torch::zeros({2, 6}));
  EXPECT_EQ(state.joint.scalar_type(), torch::kFloat32);
}

TEST(Properties, IntegrationMethodNamesAreAccepted) {
  for (const char* name : {"euler", "Euler", "rk4", "RK4", "rungekutta4", "Runge-Kutta4", "runge-kutta-4"})
    EXPECT_NO_THROW(parse_integration_method(name)) << name;
  EXPECT_EQ(parse_integration_method("RungeKutta4"), IntegrationMethod::kRungeKutta4);
}

TEST(Properties, AddMuscleRebuildsAndARejectedMuscleLeavesTheEffectorIntact) {
  auto skeleton = std::make_shared<TwoDofArmImpl>();
  Effector effector(skeleton, make_muscle("RigidTendonHillMuscle"));
  MuscleParameters parameters{{"max_isometric_force", 100}, {"tendon_length", 0.05}, {"optimal_muscle_length", 0.1}};
  effector->add_muscle({{0, 1}, {{-0.05, 0.0}, {0.1, 0.02}}}, {"first", parameters, ""});
  effector->add_muscle({{1, 2}, {{0.1, 0.02}, {0.05, 0.015}}}, {"second", parameters, ""});
  EXPECT_EQ(effector->n_muscles(), 2);
  EXPECT_THROW(effector->add_muscle({{1, 5}, {{0.1, 0.02}, {0.05, 0.015}}}, {"bad", parameters, ""}), InputError);
  EXPECT_EQ(effector->n_muscles(), 2);
  auto state = effector->step(effector->reset(1, torch::tensor({{0.5, 0.5}})), torch::full({1, 2}, 0.5));
  EXPECT_EQ(state.muscle.size(2), 2);
  EXPECT_TRUE(torch::isfinite(state.muscle).all().item<bool>());
}

TEST(Properties, ExplicitMuscleParametersOverrideThePresets) {
  auto muscle = make_muscle("ReluMuscle", {{"max_isometric_force", 50.0}});
  auto effector = make_reacher(muscle);
  EXPECT_TRUE(torch::allclose(effector->muscle()->parameter("max_isometric_force"), torch::full({4}, 50.0f)));
  EXPECT_TRUE(torch::allclose(make_reacher()->muscle()->parameter("max_isometric_force"), torch::full({4}, 1000.0f)));
}

}  // namespace
}  // namespace motornet
