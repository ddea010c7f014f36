// The fused GRU policy step, the fused senses and column concatenation, and the raw numeric helpers they use,
// each held equal to the op-by-op ATen computation they replace.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "env/sense_nodes.h"
#include "control/numeric/activations.h"
#include "control/numeric/row_major_gemm.h"
#include "control/policies/gru_policy_step.h"
#include "motornet/core/error.h"
#include "motornet/control/policies/recurrent_policy.h"
#include "test_support.h"

namespace motornet {
namespace {

constexpr int64_t B = 9, I = 7, H = 5, M = 4, T = 6;

struct Leaves {
  GruPolicyWeights weights;
  std::vector<torch::Tensor> inputs;  // x_0 .. x_{T-1}
  torch::Tensor h0;
  std::vector<torch::Tensor> noise;  // per step, or empty

  std::vector<torch::Tensor> all() const {
    std::vector<torch::Tensor> out = {weights.w_ih, weights.w_hh, weights.b_ih, weights.b_hh, weights.w_out,
                                      weights.b_out, h0};
    out.insert(out.end(), inputs.begin(), inputs.end());
    return out;
  }
};

// Fresh leaves with the same values for every run (seeded), all requiring gradients unless told otherwise.
Leaves make_leaves(torch::Dtype dtype, bool with_noise, bool weights_require_grad = true) {
  torch::manual_seed(11);
  auto options = torch::TensorOptions().dtype(dtype);
  Leaves leaves;
  auto weight = [&](std::initializer_list<int64_t> shape) {
    return (0.6 * torch::randn(shape, options)).requires_grad_(weights_require_grad);
  };
  leaves.weights = {weight({3 * H, I}), weight({3 * H, H}), weight({3 * H}), weight({3 * H}), weight({M, H}),
                    weight({M})};
  for (int64_t t = 0; t < T; ++t) leaves.inputs.push_back(torch::randn({B, I}, options).requires_grad_(true));
  leaves.h0 = torch::randn({B, H}, options).requires_grad_(true);
  if (with_noise)
    for (int64_t t = 0; t < T; ++t) leaves.noise.push_back(0.1 * torch::randn({B, H}, options));
  return leaves;
}

// One policy step op by op: what RecurrentPolicy computed before the fused step (and still does elsewhere).
std::pair<torch::Tensor, torch::Tensor> reference_step(const Leaves& l, int64_t t, const torch::Tensor& h) {
  auto next = at::gru_cell(l.inputs[t], h, l.weights.w_ih, l.weights.w_hh, l.weights.b_ih, l.weights.b_hh);
  if (!l.noise.empty()) next = next + l.noise[t];
  return {torch::sigmoid(torch::addmm(l.weights.b_out, next, l.weights.w_out.t())), next};
}

// A T-step rollout and a loss on every action and the last hidden state; `detach_at` cuts the hidden chain.
torch::Tensor rollout_loss(const Leaves& l, bool fused, int64_t detach_at = -1,
                           std::vector<torch::Tensor>* outputs = nullptr) {
  GruPolicyStepper stepper;
  torch::manual_seed(3);
  auto action_weights = torch::randn({T, B, M}, l.h0.options().requires_grad(false));
  auto hidden_weights = torch::randn({B, H}, l.h0.options().requires_grad(false));
  auto h = l.h0;
  torch::Tensor loss = torch::zeros({}, l.h0.options());
  for (int64_t t = 0; t < T; ++t) {
    if (t == detach_at) h = h.detach();
    auto [action, next] =
        fused ? stepper.step(l.inputs[t], h, l.noise.empty() ? torch::Tensor() : l.noise[t], l.weights)
              : reference_step(l, t, h);
    h = next;
    loss = loss + (action * action_weights[t]).sum();
    if (outputs) {
      outputs->push_back(action);
      outputs->push_back(next);
    }
  }
  return loss + (h * hidden_weights).sum();
}

double tolerance(torch::Dtype dtype) { return dtype == torch::kFloat64 ? 1e-12 : 2e-5; }
const char* name(torch::Dtype dtype) { return dtype == torch::kFloat64 ? " f64" : " f32"; }

TEST(GruPolicyStep, AChainEqualsOpByOpInValuesAndGradients) {
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    for (bool noise : {false, true}) {
      std::vector<torch::Tensor> expected_out, actual_out;
      auto expected_leaves = make_leaves(dtype, noise), actual_leaves = make_leaves(dtype, noise);
      auto expected = torch::autograd::grad({rollout_loss(expected_leaves, false, -1, &expected_out)},
                                            expected_leaves.all());
      auto actual = torch::autograd::grad({rollout_loss(actual_leaves, true, -1, &actual_out)}, actual_leaves.all());
      ASSERT_EQ(actual_out.size(), expected_out.size());
      for (size_t i = 0; i < expected_out.size(); ++i)
        EXPECT_WITHIN(actual_out[i], expected_out[i], tolerance(dtype), tolerance(dtype),
                      (i % 2 ? "hidden" : "action") << " of step " << i / 2 << name(dtype) << " noise " << noise);
      for (size_t i = 0; i < expected.size(); ++i)
        EXPECT_WITHIN(actual[i], expected[i], tolerance(dtype), tolerance(dtype),
                      "gradient of leaf " << i << name(dtype) << " noise " << noise);
    }
  }
}

TEST(GruPolicyStep, ADetachedHiddenStateStartsANewChain) {
  auto expected_leaves = make_leaves(torch::kFloat64, false), actual_leaves = make_leaves(torch::kFloat64, false);
  auto expected = torch::autograd::grad({rollout_loss(expected_leaves, false, 3)}, expected_leaves.all(), {}, true,
                                        false, /*allow_unused=*/true);
  auto actual = torch::autograd::grad({rollout_loss(actual_leaves, true, 3)}, actual_leaves.all(), {}, true, false,
                                      /*allow_unused=*/true);
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(actual[i].defined(), expected[i].defined()) << "leaf " << i;
    if (expected[i].defined()) EXPECT_WITHIN(actual[i], expected[i], 1e-12, 1e-12, "gradient of leaf " << i);
  }
}

// The fused step multiplies by weights it packed earlier; whatever changes the weights between steps or episodes
// must reach the products: an in-place change (a new version), new memory under the same tensor (set_data), and
// a change through .data() (no version at all) before a new episode.
TEST(GruPolicyStep, ChangedWeightsReachTheProducts) {
  torch::NoGradGuard no_grad;
  auto leaves = make_leaves(torch::kFloat64, false, /*weights_require_grad=*/false);
  GruPolicyStepper stepper;
  auto check = [&](const torch::Tensor& h, int64_t t, const std::string& what) {
    auto [action, next] = stepper.step(leaves.inputs[t], h, torch::Tensor(), leaves.weights);
    auto [expected_action, expected_next] = reference_step(leaves, t, h);
    EXPECT_WITHIN(action, expected_action, 1e-12, 1e-12, what);
    EXPECT_WITHIN(next, expected_next, 1e-12, 1e-12, what);
    return next;
  };
  auto h = check(leaves.h0, 0, "first step");
  leaves.weights.w_hh.mul_(0.5);  // in place, within the episode
  h = check(h, 1, "after an in-place change");
  leaves.weights.w_ih.set_data(leaves.weights.w_ih * 2.0);
  h = check(h, 2, "after set_data");
  leaves.weights.w_out.data().mul_(-1.0);  // counts no version: seen from the next episode on
  check(leaves.h0.clone(), 3, "a new episode after a change through .data()");
}

TEST(GruPolicyStep, ARetainedGraphGivesTheSameWeightGradientsOnEveryBackward) {
  auto leaves = make_leaves(torch::kFloat64, true);
  auto loss = rollout_loss(leaves, true);
  loss.backward({}, /*retain_graph=*/true);
  auto first = leaves.weights.w_hh.grad().clone();
  loss.backward();
  EXPECT_WITHIN(leaves.weights.w_hh.grad(), 2 * first, 1e-12, 1e-12, "accumulated over two backwards");
}

TEST(GruPolicyStep, InputOnlyGradientsLeaveNoStaleWeightGradientBehind) {
  // A backward that asks only for an input's gradient runs the steps but not the collector; the weight
  // gradients of a later backward must not include anything from it.
  auto expected_leaves = make_leaves(torch::kFloat64, false), actual_leaves = make_leaves(torch::kFloat64, false);
  rollout_loss(expected_leaves, false).backward();
  auto loss = rollout_loss(actual_leaves, true);
  torch::autograd::grad({loss}, {actual_leaves.inputs[0]}, {}, /*retain_graph=*/true);
  loss.backward();
  EXPECT_WITHIN(actual_leaves.weights.w_ih.grad(), expected_leaves.weights.w_ih.grad(), 1e-12, 1e-12, "dW_ih");
  EXPECT_WITHIN(actual_leaves.weights.b_out.grad(), expected_leaves.weights.b_out.grad(), 1e-12, 1e-12, "db_out");
}

TEST(GruPolicyStep, FrozenWeightsStillGiveInputGradients) {
  auto expected_leaves = make_leaves(torch::kFloat64, false, false), actual_leaves = make_leaves(torch::kFloat64, false, false);
  auto expected = torch::autograd::grad({rollout_loss(expected_leaves, false)}, {expected_leaves.inputs[0], expected_leaves.h0});
  auto actual = torch::autograd::grad({rollout_loss(actual_leaves, true)}, {actual_leaves.inputs[0], actual_leaves.h0});
  EXPECT_WITHIN(actual[0], expected[0], 1e-12, 1e-12, "d/dx_0");
  EXPECT_WITHIN(actual[1], expected[1], 1e-12, 1e-12, "d/dh_0");
}

TEST(GruPolicyStep, InterleavedEpisodesKeepTheirGradientsApart) {
  // Two rollouts stepped alternately through one stepper, each loss differentiated on its own.
  auto a = make_leaves(torch::kFloat64, false), b = make_leaves(torch::kFloat64, false);
  b.weights = a.weights;  // shared weights, different inputs
  for (auto& x : b.inputs) x = (x * 0.5).detach().requires_grad_(true);
  GruPolicyStepper stepper;
  auto ha = a.h0, hb = b.h0;
  for (int64_t t = 0; t < T; ++t) {
    ha = stepper.step(a.inputs[t], ha, {}, a.weights).second;
    hb = stepper.step(b.inputs[t], hb, {}, b.weights).second;
  }
  auto actual = torch::autograd::grad({ha.sum()}, {a.weights.w_ih, a.weights.b_hh});
  auto href = a.h0;
  for (int64_t t = 0; t < T; ++t) href = reference_step(a, t, href).second;
  auto expected = torch::autograd::grad({href.sum()}, {a.weights.w_ih, a.weights.b_hh});
  EXPECT_WITHIN(actual[0], expected[0], 1e-12, 1e-12, "dW_ih of episode a");
  EXPECT_WITHIN(actual[1], expected[1], 1e-12, 1e-12, "db_hh of episode a");
}

TEST(GruPolicyStep, DoubleBackwardIsRefused) {
  auto leaves = make_leaves(torch::kFloat64, false);
  auto loss = rollout_loss(leaves, true);
  EXPECT_THROW(torch::autograd::grad({loss}, {leaves.h0}, {}, true, /*create_graph=*/true), c10::Error);
}

TEST(RecurrentPolicyKernels, AutoAndOpByOpAgreeAndOpByOpUsesAtenCells) {
  auto make = [](const std::string& kernels) {
    torch::manual_seed(21);
    auto policy = std::make_shared<RecurrentPolicyImpl>(RecurrentPolicyOptions(I, M).hidden_size(H).kernels(parse_kernel_choice(kernels)));
    policy->to(torch::kFloat64);
    return policy;
  };
  auto fused = make("auto"), reference = make("op-by-op");
  torch::manual_seed(22);
  auto observations = torch::randn({T, B, I}, torch::kFloat64);
  auto run = [&](const std::shared_ptr<RecurrentPolicyImpl>& policy, std::string* node) {
    auto h = policy->initial_hidden(B);
    auto loss = torch::zeros({}, torch::kFloat64);
    for (int64_t t = 0; t < T; ++t) {
      auto [action, next] = policy->forward(observations[t], h);
      h = next;
      loss = loss + action.pow(2).sum();
      *node = action.grad_fn()->name();
    }
    auto grads = torch::autograd::grad({loss}, policy->parameters());
    grads.push_back(loss);
    return grads;
  };
  std::string fused_node, reference_node;
  auto expected = run(reference, &reference_node), actual = run(fused, &fused_node);
  EXPECT_NE(fused_node.find("GruPolicyStep"), std::string::npos) << fused_node;
  EXPECT_EQ(reference_node.find("GruPolicyStep"), std::string::npos) << reference_node;
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_WITHIN(actual[i], expected[i], 1e-12, 1e-12, "output " << i);

  EXPECT_THROW(RecurrentPolicyImpl(RecurrentPolicyOptions(I, M).cell(CellType::kLstm).kernels(KernelChoice::kFused)), InputError);
  // 'fused' where no fused step applies (here float16) is an error at the step, not a silent op-by-op run.
  auto half = std::make_shared<RecurrentPolicyImpl>(RecurrentPolicyOptions(I, M).hidden_size(H).kernels(KernelChoice::kFused));
  half->to(torch::kFloat16);
  try {
    half->forward(torch::zeros({B, I}, torch::kFloat16), half->initial_hidden(B));
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("float32 and float64 on the CPU"), std::string::npos) << e.what();
  }
  try {
    RecurrentPolicyImpl(RecurrentPolicyOptions(I, M).kernels(parse_kernel_choice("fastest", "kernels")));
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("kernels"), std::string::npos) << e.what();
  }
}

template <typename T>
void check_products(torch::ScalarType dtype, double tolerance) {
  torch::manual_seed(2);
  int shapes = 0;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t m : {1, 4, 5, 9, 32})
        for (int64_t n : {1, 4, 12, 16, 17, 33, 96})
          for (int64_t k : {0, 1, 7, 32}) {
            const auto options = torch::TensorOptions().dtype(dtype);
            auto a = ta ? torch::randn({k, m}, options) : torch::randn({m, k}, options);
            auto b = tb ? torch::randn({n, k}, options) : torch::randn({k, n}, options);
            auto c0 = torch::randn({m, n}, options);
            const T *pa = a.data_ptr<T>(), *pb = b.data_ptr<T>();
            const int64_t lda = ta ? m : k, ldb = tb ? k : n;
            const std::string shape = fmt::format("ta {} tb {} m {} n {} k {}", ta, tb, m, n, k);
            // C = 1.5 op(A) op(B) + 0.5 C against LibTorch's product and the plain loops.
            auto tiles = c0.clone(), loops = c0.clone();
            numeric::gemm<T>(ta, tb, m, n, k, 1.5, pa, lda, pb, ldb, 0.5, tiles.data_ptr<T>(), n);
            numeric::gemm_loops<T>(ta, tb, m, n, k, 1.5, pa, lda, pb, ldb, 0.5, loops.data_ptr<T>(), n);
            auto expected = 1.5 * torch::mm(ta ? a.t() : a, tb ? b.t() : b) + 0.5 * c0;
            EXPECT_WITHIN(tiles, expected, tolerance, tolerance, "tiles " << shape);
            EXPECT_WITHIN(loops, expected, tolerance, tolerance, "loops " << shape);
            // beta = 0 overwrites C without reading it (a NaN there must not come through).
            auto overwritten = torch::full({m, n}, NAN, options);
            numeric::gemm<T>(ta, tb, m, n, k, 1.0, pa, lda, pb, ldb, 0.0, overwritten.data_ptr<T>(), n);
            EXPECT_WITHIN(overwritten, torch::mm(ta ? a.t() : a, tb ? b.t() : b), tolerance, tolerance,
                          "beta 0 " << shape);
            // op(B) packed once gives the same bits.
            auto packed_b = torch::empty({k, numeric::packed_width(n)}, options);
            numeric::pack_right<T>(tb, k, n, pb, ldb, packed_b.data_ptr<T>());
            auto packed = c0.clone();
            numeric::gemm_packed<T>(ta, m, n, k, 1.5, pa, lda, packed_b.data_ptr<T>(), 0.5, packed.data_ptr<T>(), n);
            EXPECT_TRUE(torch::equal(packed, tiles)) << "packed " << shape;
            // Each row's bits do not depend on the rows computed with it (replicates' row blocks rely on it).
            if (!ta && m > 1) {
              auto by_blocks = c0.clone();
              const int64_t first = m / 2;
              numeric::gemm<T>(false, tb, first, n, k, 1.5, pa, lda, pb, ldb, 0.5, by_blocks.data_ptr<T>(), n);
              numeric::gemm<T>(false, tb, m - first, n, k, 1.5, pa + first * lda, lda, pb, ldb, 0.5,
                               by_blocks.data_ptr<T>() + first * n, n);
              EXPECT_TRUE(torch::equal(by_blocks, tiles)) << "row blocks " << shape;
            }
            ++shapes;
          }
  EXPECT_EQ(shapes, 2 * 2 * 5 * 7 * 4);
}

TEST(RowMajorGemm, MatchesLibTorchAndPlainLoopsForEveryTranspositionAndShape) {
  SCOPED_TRACE(numeric::gemm_isa());
  check_products<double>(torch::kFloat64, 1e-12);
  check_products<float>(torch::kFloat32, 2e-5);
}

TEST(Activations, Float32SigmoidAndTanhAreWithinAFewUlps) {
  // Error as a fraction of the allowance: 4 float32 ulps of the exact value; for sigmoid at least 2 smallest
  // normals (below e^-87.3 the result stays at ~1e-38 instead of becoming denormal), and for tanh at least 1.2e-7
  // absolute (1 - 2/(e^2x + 1) cancels just above |x| = 1/8, where the Taylor branch stops).
  auto ratio = [](double value, double exact, double absolute_floor) {
    const double ulp = std::max(std::abs(exact), double(std::numeric_limits<float>::min())) *
                       std::numeric_limits<float>::epsilon();
    return std::abs(value - exact) / std::max(4 * ulp, absolute_floor);
  };
  double worst_sigmoid = 0, worst_tanh = 0;
  for (double x = -100.0; x <= 100.0; x += 1.0 / 1024) {
    for (double scale : {1.0, 1e-3, 1e-6}) {
      const float xf = static_cast<float>(x * scale);
      worst_sigmoid = std::max(worst_sigmoid, ratio(numeric::sigmoid(xf), 1.0 / (1.0 + std::exp(-double(xf))),
                                                        2.0 * std::numeric_limits<float>::min()));
      worst_tanh = std::max(worst_tanh, ratio(numeric::tanh(xf), std::tanh(double(xf)), 1.2e-7));
    }
  }
  EXPECT_LE(worst_sigmoid, 1.0);
  EXPECT_LE(worst_tanh, 1.0);
  EXPECT_LT(numeric::sigmoid(-1000.0f), 1e-37f);  // clamped: no overflow to inf, no NaN
  EXPECT_GE(numeric::sigmoid(-1000.0f), 0.0f);
  EXPECT_EQ(numeric::sigmoid(1000.0f), 1.0f);
  EXPECT_EQ(numeric::tanh(1000.0f), 1.0f);
  EXPECT_EQ(numeric::tanh(-1000.0f), -1.0f);
}

TEST(FusedSenses, EqualOpByOpInValuesAndGradients) {
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    torch::manual_seed(4);
    auto options = torch::TensorOptions().dtype(dtype);
    const int64_t R = 5, S = 2, row = 1;
    fused::SensesOptions senses_options;
    senses_options.length_row = row;
    senses_options.scale = torch::rand({2, M}, options) + 0.5;
    senses_options.vision_sigma = 0.3;
    senses_options.proprioception_sigma = 0.2;
    auto cartesian0 = torch::randn({B, 2 * S}, options), muscle0 = torch::randn({B, R, M}, options);
    auto vision_draws = torch::randn({B, S}, options), proprio_draws = torch::randn({B, 2 * M}, options);
    auto weights_v = torch::randn({B, S}, options), weights_p = torch::randn({B, 2 * M}, options);
    auto run = [&](bool fused) {
      auto cartesian = cartesian0.clone().requires_grad_(true), muscle = muscle0.clone().requires_grad_(true);
      torch::Tensor vision, proprio;
      if (fused) {
        EXPECT_TRUE(fused::senses_apply(cartesian, muscle, senses_options));
        std::tie(vision, proprio) = fused::senses(cartesian, muscle, vision_draws, proprio_draws, senses_options);
      } else {
        vision = cartesian.narrow(1, 0, S) + 0.3 * vision_draws;
        proprio = muscle.narrow(1, row, 2).div(senses_options.scale).flatten(1) + 0.2 * proprio_draws;
      }
      auto grads = torch::autograd::grad({(vision * weights_v).sum() + (proprio * weights_p).sum()}, {cartesian, muscle});
      return std::vector<torch::Tensor>{vision, proprio, grads[0], grads[1]};
    };
    auto expected = run(false), actual = run(true);
    const char* names[] = {"vision", "proprioception", "d/dcartesian", "d/dmuscle"};
    for (size_t i = 0; i < expected.size(); ++i)
      EXPECT_WITHIN(actual[i], expected[i], tolerance(dtype), tolerance(dtype), names[i] << name(dtype));
  }
}

TEST(ConcatColumns, EqualsCatInValuesAndGradients) {
  torch::manual_seed(8);
  auto a0 = torch::randn({B, 3}), b0 = torch::randn({B, 0}), c0 = torch::randn({B, 7}), d0 = torch::randn({B, 2});
  auto weights = torch::randn({B, 9});
  auto run = [&](bool fused) {
    auto a = a0.clone().requires_grad_(true), c = c0.clone().requires_grad_(true), d = d0.clone();  // d: no grad
    auto b = b0.clone().requires_grad_(true);
    // c's part: rows apart in memory (a column range of a wider tensor), as a step's view of an episode tensor is.
    auto c_part = c.narrow(1, 2, 4);
    auto out = fused ? fused::concat_columns({a, b, c_part, d}) : torch::cat({a, b, c_part, d}, 1);
    auto grads = torch::autograd::grad({(out * weights).sum()}, {a, c});
    return std::vector<torch::Tensor>{out, grads[0], grads[1]};
  };
  auto expected = run(false), actual = run(true);
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_TRUE(torch::equal(actual[i], expected[i])) << "output " << i;
  // Mixed dtypes are left to torch::cat (which promotes) rather than copied bytewise.
  auto mixed = fused::concat_columns({a0, d0.to(torch::kFloat64)});
  EXPECT_EQ(mixed.scalar_type(), torch::kFloat64);
}

}  // namespace
}  // namespace motornet
