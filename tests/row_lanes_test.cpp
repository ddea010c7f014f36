// Blocks of rows (RowLanes) against single rows: every RowLanes operation gives each lane the bits the double
// operation gives, and the block effector step (RowLaneStep) gives every row of a block, full or padded, the very
// bits the row step (RowStep) gives it alone, forward and backward, for every model with block kernels, Euler and
// RK4, with and without loads, from states on the position, velocity and activation bounds.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "body/fused/lane_block.h"
#include "body/fused/row_io.h"
#include "motornet/body/equations/ops.h"
#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

using equations::LaneMask;
using equations::RowLanes;
using fused::kRowLanes;

// Equal bits (not only equal values: -0.0 against 0.0 would show a different path).
void expect_same_bits(const std::vector<double>& actual, const std::vector<double>& expected, const std::string& where) {
  ASSERT_EQ(actual.size(), expected.size()) << where;
  for (size_t i = 0; i < actual.size(); ++i)
    EXPECT_EQ(std::memcmp(&actual[i], &expected[i], sizeof(double)), 0)
        << where << " [" << i << "]: " << fmt::format("{:.17g} against {:.17g}", actual[i], expected[i]);
}

RowLanes lanes_of(double a, double b, double c, double d) { return RowLanes(RowLanes::Vector{a, b, c, d}); }

TEST(RowLanes, EveryOperationGivesEachLaneTheBitsOfTheDoubleOperation) {
  const double xs[] = {0.37, -1.25, 3.0e-3, 7.5}, ys[] = {-2.0, 0.11, 1.9, -0.0};
  const RowLanes x = lanes_of(xs[0], xs[1], xs[2], xs[3]), y = lanes_of(ys[0], ys[1], ys[2], ys[3]);
  struct Case {
    const char* name;
    RowLanes lanes;
    double (*scalar)(double, double);
  };
  const Case cases[] = {
      {"+", x + y, [](double a, double b) { return a + b; }},
      {"-", x - y, [](double a, double b) { return a - b; }},
      {"*", x * y, [](double a, double b) { return a * b; }},
      {"/", x / lanes_of(ys[0], ys[1], ys[2], 4.0), [](double a, double b) { return a / (b == -0.0 ? 4.0 : b); }},
      {"scalar +", 0.5 + x, [](double a, double) { return 0.5 + a; }},
      {"scalar /", 2.0 / x, [](double a, double) { return 2.0 / a; }},
      {"negate", -x, [](double a, double) { return -a; }},
      {"exp", exp(x), [](double a, double) { return std::exp(a); }},
      {"log", log(x * x), [](double a, double) { return std::log(a * a); }},
      {"sqrt", sqrt(x * x), [](double a, double) { return std::sqrt(a * a); }},
      {"sin", sin(x), [](double a, double) { return std::sin(a); }},
      {"cos", cos(x), [](double a, double) { return std::cos(a); }},
      {"tanh", tanh(x), [](double a, double) { return std::tanh(a); }},
      {"where", equations::where(x > y, x, y), [](double a, double b) { return a > b ? a : b; }},
      {"clamp_min", equations::clamp_min(x, 0.2), [](double a, double) { return a < 0.2 ? 0.2 : a; }},
      {"clamp_max", equations::clamp_max(x, 0.2), [](double a, double) { return a > 0.2 ? 0.2 : a; }},
  };
  for (const auto& c : cases) {
    std::vector<double> actual, expected;
    for (int l = 0; l < kRowLanes; ++l) actual.push_back(c.lanes[l]), expected.push_back(c.scalar(xs[l], ys[l]));
    expect_same_bits(actual, expected, c.name);
  }
  // Masks: a bool per lane, combined lane by lane.
  const LaneMask above = x > y, small = x < lanes_of(1, 1, 1, 1);
  for (int l = 0; l < kRowLanes; ++l) {
    EXPECT_EQ(above[l], xs[l] > ys[l]) << l;
    EXPECT_EQ(equations::logical_and(above, small)[l], xs[l] > ys[l] && xs[l] < 1) << l;
    EXPECT_EQ(equations::logical_or(above, small)[l], xs[l] > ys[l] || xs[l] < 1) << l;
  }
  EXPECT_TRUE(above.any());
  EXPECT_FALSE((x != x).any());
}

struct LaneCase {
  std::string name, preset, muscle, method;
  int64_t ministeps;
  double damping;
};
void PrintTo(const LaneCase& c, std::ostream* os) { *os << c.name; }

// A point mass pulled by four muscles of any model along paths (one with a via point), Hill-type parameters
// sized to paths ~2.8 long: ReluPointMass24 accepts only its own muscle.
Effector path_point_mass(const std::string& muscle, EffectorOptions options) {
  auto point_mass = std::make_shared<PointMassImpl>(PointMassOptions().space_dim(2).mass(1.0));
  Effector effector(point_mass, make_muscle(muscle), std::move(options));
  MuscleParameters parameters{{"max_isometric_force", 500}};
  if (muscle != "ReluMuscle") parameters["tendon_length"] = 1.4, parameters["optimal_muscle_length"] = 1.3;
  effector->add_muscle({{0, 1}, {{2.0, 2.0}, {0.0, 0.0}}}, {"upper_right", parameters, ""});
  effector->add_muscle({{0, 0, 1}, {{-2.0, 2.0}, {-1.0, 1.5}, {0.0, 0.0}}}, {"upper_left_via", parameters, ""});
  effector->add_muscle({{0, 1}, {{2.0, -2.0}, {0.0, 0.0}}}, {"lower_right", parameters, ""});
  effector->add_muscle({{0, 1}, {{-2.0, -2.0}, {0.0, 0.0}}}, {"lower_left", parameters, ""});
  return effector;
}

class BlockStep : public ::testing::TestWithParam<LaneCase> {};

// Rows of a realistic state (a few steps from random positions), some pushed onto the bounds, and random
// actions (some outside [a_min, 1]), loads and output gradients.
struct RowData {
  int64_t rows = 0;
  std::vector<double> stages, actions, endpoint_loads, joint_loads, grad_next, grad_cartesian;
};

RowData random_rows(const Effector& effector, const fused::RowLayout& layout, int64_t rows) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(11);
  const int64_t D = layout.D, M = layout.M, S = layout.S;
  auto options = torch::TensorOptions().dtype(torch::kFloat64);
  auto state = effector->reset(rows);
  for (int t = 0; t < 3; ++t) state = effector->step(state, torch::rand({rows, M}, options));
  auto joint = state.joint.clone();
  joint.narrow(1, D, D).copy_(torch::randn({rows, D}, options));
  const auto& skeleton = effector->skeleton();
  joint[0].narrow(0, 0, D).copy_(skeleton->position_upper_bound());  // at the upper bound, moving into it
  joint[0].narrow(0, D, D).fill_(2.0);
  joint[1].narrow(0, 0, D).copy_(skeleton->position_lower_bound());
  joint[1].narrow(0, D, D).fill_(-2.0);
  joint[5].narrow(0, D, D).copy_(skeleton->velocity_upper_bound());
  auto muscle = state.muscle.clone();
  muscle[2][0].copy_(effector->muscle()->min_activation());
  muscle[3][0].fill_(1.0);
  auto action = torch::rand({rows, M}, options) * 1.4 - 0.2;
  RowData data;
  data.rows = rows;
  data.stages.resize(rows * layout.stage);
  const fused::StageRows<double> stage_rows(joint.contiguous(), muscle.contiguous(), state.geometry.contiguous(), layout);
  for (int64_t b = 0; b < rows; ++b) stage_rows.read(b, data.stages.data() + b * layout.stage);
  auto to_vector = [](const torch::Tensor& t) {
    auto c = t.contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  };
  data.actions = to_vector(action);
  data.endpoint_loads = to_vector(torch::randn({rows, S}, options));
  data.joint_loads = to_vector(torch::randn({rows, D}, options) * 0.5);
  data.grad_next = to_vector(torch::randn({rows, layout.stage}, options));
  data.grad_cartesian = to_vector(torch::randn({rows, 2 * S}, options));
  return data;
}

// Every output of the step, forward and backward, row after row.
struct StepOutputs {
  std::vector<double> next_stage, cartesian, grad_stage, grad_action, grad_endpoint_load, grad_joint_load;
  void resize(int64_t rows, const fused::RowLayout& L) {
    next_stage.resize(rows * L.stage), cartesian.resize(rows * 2 * L.S), grad_stage.resize(rows * L.stage);
    grad_action.resize(rows * L.M), grad_endpoint_load.resize(rows * L.S), grad_joint_load.resize(rows * L.D);
  }
};

StepOutputs row_by_row(const fused::StepKernels& kernels, const RowData& d, bool endpoint, bool joint) {
  fused::RowStep step(kernels);
  const auto& L = step.layout();
  StepOutputs out;
  out.resize(d.rows, L);
  for (int64_t b = 0; b < d.rows; ++b) {
    const fused::RowInput in{d.stages.data() + b * L.stage, d.actions.data() + b * L.M,
                             endpoint ? d.endpoint_loads.data() + b * L.S : nullptr,
                             joint ? d.joint_loads.data() + b * L.D : nullptr};
    step.forward(in, out.next_stage.data() + b * L.stage, out.cartesian.data() + b * 2 * L.S);
    step.backward(in, d.grad_next.data() + b * L.stage, d.grad_cartesian.data() + b * 2 * L.S,
                  out.grad_stage.data() + b * L.stage, out.grad_action.data() + b * L.M,
                  out.grad_endpoint_load.data() + b * L.S, out.grad_joint_load.data() + b * L.D);
  }
  return out;
}

// The same rows in blocks of kRowLanes (the last block padded with its last row, as the environment step pads).
StepOutputs block_by_block(const fused::StepKernels& kernels, const RowData& d, bool endpoint, bool joint) {
  fused::RowLaneStep step(kernels);
  const auto& L = step.layout();
  StepOutputs out;
  out.resize(d.rows, L);
  // Gathers n values of each of the block's rows (the padding lanes repeat the last real row).
  auto gather = [&](const std::vector<double>& source, int64_t n, int64_t first, int real) {
    std::vector<double> rows(kRowLanes * n);
    for (int l = 0; l < kRowLanes; ++l) {
      const int64_t b = fused::block_row(first, real, l);
      std::copy(source.begin() + b * n, source.begin() + (b + 1) * n, rows.begin() + l * n);
    }
    std::vector<RowLanes> block(n);
    fused::rows_to_block(rows.data(), n, block.data());
    return block;
  };
  auto scatter = [&](const std::vector<RowLanes>& block, int64_t n, int64_t first, int real, std::vector<double>& to) {
    std::vector<double> rows(kRowLanes * n);
    fused::block_to_rows(block.data(), n, rows.data());
    std::copy(rows.begin(), rows.begin() + real * n, to.begin() + first * n);
  };
  fused::for_each_block(0, d.rows, [&](int64_t first, int real) {
    auto stage = gather(d.stages, L.stage, first, real), action = gather(d.actions, L.M, first, real);
    auto endpoint_load = gather(d.endpoint_loads, L.S, first, real), joint_load = gather(d.joint_loads, L.D, first, real);
    auto grad_next = gather(d.grad_next, L.stage, first, real);
    auto grad_cartesian = gather(d.grad_cartesian, 2 * L.S, first, real);
    const fused::BasicRowInput<RowLanes> in{stage.data(), action.data(), endpoint ? endpoint_load.data() : nullptr,
                                            joint ? joint_load.data() : nullptr};
    std::vector<RowLanes> next(L.stage), cartesian(2 * L.S), grad_stage(L.stage), grad_action(L.M),
        grad_endpoint(L.S), grad_joint(L.D);
    step.forward(in, next.data(), cartesian.data());
    step.backward(in, grad_next.data(), grad_cartesian.data(), grad_stage.data(), grad_action.data(),
                  grad_endpoint.data(), grad_joint.data());
    scatter(next, L.stage, first, real, out.next_stage);
    scatter(cartesian, 2 * L.S, first, real, out.cartesian);
    scatter(grad_stage, L.stage, first, real, out.grad_stage);
    scatter(grad_action, L.M, first, real, out.grad_action);
    scatter(grad_endpoint, L.S, first, real, out.grad_endpoint_load);
    scatter(grad_joint, L.D, first, real, out.grad_joint_load);
  });
  return out;
}

TEST_P(BlockStep, EveryRowOfABlockHasTheBitsOfTheRowStepAlone) {
  const auto& c = GetParam();
  auto options = EffectorOptions()
                     .timestep(0.01)
                     .integration_method(parse_integration_method(c.method))
                     .n_ministeps(c.ministeps)
                     .damping(c.damping)
                     .kernels(KernelChoice::kFused);
  auto effector = c.preset == "PathPointMass" ? path_point_mass(c.muscle, options)
                                              : make_preset(c.preset, make_muscle(c.muscle), options);
  effector->to(torch::kFloat64);
  const auto kernels = effector->step_kernels();
  ASSERT_TRUE(kernels);
  ASSERT_TRUE(fused::has_row_lanes(*kernels)) << c.name << " has no block kernels";
  const fused::RowLayout layout(*kernels);
  const auto data = random_rows(effector, layout, 7);  // one full block, one padded with a repeated row
  for (bool endpoint : {true, false}) {
    for (bool joint : {true, false}) {
      const auto expected = row_by_row(*kernels, data, endpoint, joint);
      const auto actual = block_by_block(*kernels, data, endpoint, joint);
      const auto where = fmt::format("{} endpoint load={} joint load={}", c.name, endpoint, joint);
      expect_same_bits(actual.next_stage, expected.next_stage, where + " next stage");
      expect_same_bits(actual.cartesian, expected.cartesian, where + " cartesian");
      expect_same_bits(actual.grad_stage, expected.grad_stage, where + " d/d stage");
      expect_same_bits(actual.grad_action, expected.grad_action, where + " d/d action");
      if (endpoint) expect_same_bits(actual.grad_endpoint_load, expected.grad_endpoint_load, where + " d/d endpoint load");
      if (joint) expect_same_bits(actual.grad_joint_load, expected.grad_joint_load, where + " d/d joint load");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, BlockStep,
    ::testing::Values(LaneCase{"pm24_relu_euler", "ReluPointMass24", "ReluMuscle", "euler", 1, 0.0},
                      LaneCase{"pm24_relu_rk4_damped", "ReluPointMass24", "ReluMuscle", "rk4", 2, 0.3},
                      LaneCase{"pm_rigid_euler", "PathPointMass", "RigidTendonHillMuscle", "euler", 1, 0.0},
                      LaneCase{"pm_thelen_rk4", "PathPointMass", "RigidTendonHillMuscleThelen", "rk4", 1, 0.0},
                      LaneCase{"pm_mujoco_euler_damped", "PathPointMass", "MujocoHillMuscle", "euler", 3, 0.5},
                      LaneCase{"pm_compliant_rk4", "PathPointMass", "CompliantTendonHillMuscle", "rk4", 2, 0.0},
                      LaneCase{"pm_relu_paths_euler", "PathPointMass", "ReluMuscle", "euler", 2, 0.2}),
    [](const auto& info) { return info.param.name; });

TEST(BlockStep, ModelsWithoutBlockKernelsStepRowByRow) {
  // The two-joint arm and constant moment arms have no block version: the environment step keeps their rows one
  // at a time.
  auto free_point_mass = make_preset("FreePointMass24", make_muscle("ReluMuscle"), EffectorOptions().kernels(KernelChoice::kFused));
  ASSERT_TRUE(free_point_mass->step_kernels());
  EXPECT_FALSE(fused::has_row_lanes(*free_point_mass->step_kernels()));
  auto arm = make_preset("RigidTendonArm26", make_muscle("RigidTendonHillMuscle"),
                         EffectorOptions().kernels(KernelChoice::kFused));
  ASSERT_TRUE(arm->step_kernels());
  EXPECT_FALSE(fused::has_row_lanes(*arm->step_kernels()));
  // Asked anyway, a block step refuses instead of computing with a missing kernel.
  EXPECT_THROW(fused::RowLaneStep step(*arm->step_kernels()), std::logic_error);
}

}  // namespace
}  // namespace motornet
