// The fused force fields (src/env/field_kernel.h) against each field's op-by-op force: values and gradients
// with respect to the hand state at every step of an episode, for every built-in field type, in float64 and
// float32, with fields on and off (fraction draws), at the edges of their time windows and at the go cue.
#include <gtest/gtest.h>

#include "env/field_kernel.h"
#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

using testing::compare;

constexpr int64_t kBatch = 7, kSteps = 30;
constexpr double kTimestep = 0.01;

struct FieldCase {
  std::string name;
  std::function<std::shared_ptr<ForceField>()> make;
  bool depends_on_state;  // its force has a gradient with respect to the hand state
};
void PrintTo(const FieldCase& c, std::ostream* os) { *os << c.name; }

// Trials with go cues spread over the episode (one catch trial: never), starts and targets in the plane (one
// trial with its target at its start: a channel has no direction there).
Trials trials_for(const std::vector<std::shared_ptr<ForceField>>& fields, uint64_t seed) {
  auto generator = at::detail::createCPUGenerator(seed);
  Trials trials;
  trials.initial_joint = torch::zeros({kBatch, 4}, torch::kFloat64);
  trials.start = torch::rand({kBatch, 2}, generator, torch::kFloat64) * 0.2;
  trials.target = trials.start + torch::randn({kBatch, 2}, generator, torch::kFloat64) * 0.1;
  trials.target[3] = trials.start[3];
  trials.go_cue_step = torch::tensor(std::vector<int64_t>{2, 5, 9, 10, 11, 20, kSteps + 1});
  for (const auto& field : fields) trials.fields.push_back(field->sample(kBatch, 2, kTimestep, generator));
  return trials;
}

class FusedFields : public ::testing::TestWithParam<FieldCase> {};

TEST_P(FusedFields, EqualTheOpByOpFieldInValuesAndGradientsAtEveryStep) {
  // Two copies of the field with different draws and windows, so the sum is checked too.
  const std::vector<std::shared_ptr<ForceField>> fields{GetParam().make(), GetParam().make()};
  const auto trials = trials_for(fields, 5);
  const auto kernel = fused::FieldKernel::build(fields, trials, kSteps, kTimestep, 2);
  ASSERT_NE(kernel, nullptr);
  int64_t steps_on = 0, steps_off = 0;
  double largest_gradient = 0.0;
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const bool f64 = dtype == torch::kFloat64;
    const double tolerance = f64 ? 1e-12 : 1e-5;
    auto generator = at::detail::createCPUGenerator(9);
    for (int64_t step = 0; step < kSteps; ++step) {
      auto hand = (torch::randn({kBatch, 4}, generator, torch::kFloat64) * 0.3).to(dtype);
      EffectorState state;
      state.cartesian = hand.clone().requires_grad_(true);
      auto fused_hand = hand.clone().requires_grad_(true);
      std::vector<torch::Tensor> expected;
      torch::Tensor expected_sum;
      for (size_t f = 0; f < fields.size(); ++f) {
        expected.push_back(fields[f]->force(step, kTimestep, state, trials, trials.fields[f]));
        expected_sum = expected_sum.defined() ? expected_sum + expected.back() : expected.back();
      }
      const bool on = expected_sum.abs().max().item<double>() > 0.0;
      if (!kernel->any_on(step)) {
        // A step the environment skips must be one where the op-by-op fields push nowhere.
        EXPECT_FALSE(on) << "step " << step;
        ++steps_off;
        continue;
      }
      ++steps_on;
      auto actual = fused::field_forces(kernel, step, fused_hand);
      ASSERT_EQ(actual.size(), fields.size() + 1);
      for (size_t f = 0; f < fields.size(); ++f)
        EXPECT_LE(compare(actual[f], expected[f], tolerance, tolerance).worst_ratio, 1.0)
            << "field " << f << " at step " << step << (f64 ? " f64" : " f32");
      EXPECT_LE(compare(actual.back(), expected_sum, tolerance, tolerance).worst_ratio, 1.0) << "sum at " << step;

      // The gradient of a loss that reads each field's force and the sum.
      auto weights = torch::randn({3, kBatch, 2}, generator, torch::kFloat64).to(dtype);
      auto loss = [&](const std::vector<torch::Tensor>& forces, const torch::Tensor& sum) {
        return (forces[0] * weights[0]).sum() + (forces[1] * weights[1]).sum() + (sum * weights[2]).sum();
      };
      loss({actual[0], actual[1]}, actual.back()).backward();
      if (!GetParam().depends_on_state) {
        EXPECT_EQ(fused_hand.grad().abs().max().item<double>(), 0.0) << "a force that ignores the state, at " << step;
      } else {
        loss(expected, expected_sum).backward();
        largest_gradient = std::max(largest_gradient, state.cartesian.grad().abs().max().item<double>());
        EXPECT_LE(compare(fused_hand.grad(), state.cartesian.grad(), tolerance, tolerance).worst_ratio, 1.0)
            << "hand gradient at step " << step << (f64 ? " f64" : " f32");
      }
      EXPECT_EQ(actual[0].dtype(), dtype);
    }
  }
  EXPECT_GT(steps_on, 0);
  EXPECT_GT(steps_off, 0) << "the window and the go cue leave steps with no field on";
  if (GetParam().depends_on_state) EXPECT_GT(largest_gradient, 0.0);
}

// A user's field with an affine form (a spring pulling the hand back to the trial's start) is fused like the
// built-ins.
class SpringToStart : public ForceField {
 public:
  explicit SpringToStart(ForceFieldOptions options) : ForceField(std::move(options)) {}
  std::string type_name() const override { return "spring_to_start"; }
  std::optional<AffineForce> affine_force(int64_t space_dim, const Trials& trials, const FieldTrials&) const override {
    AffineForce form;
    form.position_gain = (-300.0 * torch::eye(space_dim, torch::kFloat64)).expand({trials.batch_size(), space_dim, space_dim});
    form.anchor = trials.start;
    return form;
  }
};

ForceFieldOptions windowed(double fraction, bool after_go) {
  // A window [0.05, 0.21) s: steps 5 to 20, so both edges fall inside the episode.
  return ForceFieldOptions().fraction(fraction).start_time(0.05).end_time(0.21).off_before_go_cue(after_go);
}

INSTANTIATE_TEST_SUITE_P(
    EveryType, FusedFields,
    ::testing::Values(
        FieldCase{"Curl", [] { return std::make_shared<CurlField>(15.0, windowed(0.6, true)); }, true},
        FieldCase{"CurlAfterTheGoCue",
                  [] { return std::make_shared<CurlField>(-8.0, ForceFieldOptions().off_before_go_cue(true)); }, true},
        FieldCase{"Viscous", [] { return std::make_shared<ViscousField>(3.0, windowed(0.5, false)); }, true},
        FieldCase{"Constant",
                  [] { return std::make_shared<ConstantLoad>(std::vector<double>{1.5, -2.0}, windowed(0.7, true)); },
                  false},
        FieldCase{"Pulse",
                  [] {
                    return std::make_shared<ForcePulse>(ForcePulseOptions().magnitude(6.0).duration(0.04).onset_earliest(0.02)
                                                            .onset_latest(0.15).directions({{1.0, 0.0}, {1.0, 1.0}}),
                                                        windowed(0.8, false));
                  },
                  false},
        FieldCase{"Channel", [] { return std::make_shared<ForceChannel>(2000.0, 50.0, windowed(0.5, true)); }, true},
        FieldCase{"UserAffineSpring", [] { return std::make_shared<SpringToStart>(windowed(0.5, true)); }, true}),
    [](const ::testing::TestParamInfo<FieldCase>& info) { return info.param.name; });

// A field defined by raw_force alone (any tensor expression of the state) has no fused form: the environment
// then runs the task's fields op by op.
class SpringToOrigin : public ForceField {
 public:
  SpringToOrigin() : ForceField(ForceFieldOptions()) {}
  std::string type_name() const override { return "spring"; }

 protected:
  torch::Tensor raw_force(int64_t, double, const EffectorState& state, const Trials&, const FieldTrials&) const override {
    return -state.cartesian.narrow(1, 0, 2).pow(3);
  }
};

TEST(FusedFields, AFieldWithoutAnAffineFormIsNotFused) {
  const std::vector<std::shared_ptr<ForceField>> fields{std::make_shared<CurlField>(5.0),
                                                         std::make_shared<SpringToOrigin>()};
  EXPECT_EQ(fused::FieldKernel::build(fields, trials_for(fields, 1), kSteps, kTimestep, 2), nullptr);

  auto task = std::make_shared<RandomTargetReach>();
  for (const auto& field : fields) task->add_field(field);
  Environment environment(make_relu_point_mass24(), task, EnvironmentOptions().max_ep_duration(0.05));
  environment->reset(ResetOptions().batch_size(3));
  auto step = environment->step(torch::full({3, 4}, 0.3));
  const auto& load = step.info.endpoint_load;
  EXPECT_TRUE(torch::allclose(load, step.info.field_forces.at("curl_0") + step.info.field_forces.at("spring_1")))
      << "the load is the sum of the fields";
}

class NoEquation : public ForceField {
 public:
  NoEquation() : ForceField(ForceFieldOptions()) {}
  std::string type_name() const override { return "empty"; }
};

TEST(FusedFields, AFieldWithNeitherFormIsAnInputErrorNamingIt) {
  const std::vector<std::shared_ptr<ForceField>> fields{std::make_shared<NoEquation>()};
  const auto trials = trials_for(fields, 2);
  EffectorState state;
  state.cartesian = torch::zeros({kBatch, 4});
  try {
    fields[0]->force(0, kTimestep, state, trials, trials.fields[0]);
    FAIL() << "expected an InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("'empty' defines neither affine_force nor raw_force"), std::string::npos)
        << error.what();
  }
}

TEST(FusedFields, TheEnvironmentTakesTheLoadFromItsStepNodeAndSkipsStepsWithNoFieldOn) {
  auto task = std::make_shared<CentreOutReach>(CentreOutReachOptions(), ReachTaskOptions().go_cue_window({0.05, 0.05}));
  task->add_field(std::make_shared<CurlField>(10.0, ForceFieldOptions().name("curl").off_before_go_cue(true)));
  task->add_field(std::make_shared<ForceChannel>(1000.0, 20.0, ForceFieldOptions().name("channel").off_before_go_cue(true)));
  Environment environment(make_relu_point_mass24(), task, EnvironmentOptions().max_ep_duration(0.1));
  environment->reset(ResetOptions().batch_size(4));
  for (int64_t t = 0; t < 10; ++t) {
    auto step = environment->step(torch::full({4, 4}, 0.3, torch::requires_grad()));
    const auto& load = step.info.endpoint_load;
    if (t < 5) {
      EXPECT_EQ(load.abs().max().item<double>(), 0.0) << "before the go cue, step " << t;
      EXPECT_EQ(load.grad_fn(), nullptr) << "no node before the go cue";
    } else {
      ASSERT_NE(load.grad_fn(), nullptr);
      // The forces come from the node that steps the effector and makes the observation.
      EXPECT_NE(load.grad_fn()->name().find("FusedEnvironmentStep"), std::string::npos) << load.grad_fn()->name();
      EXPECT_EQ(load.grad_fn(), step.observation.grad_fn());
    }
    EXPECT_EQ(step.info.field_forces.size(), 2u);
  }
}

}  // namespace
}  // namespace motornet
