// Policies: shapes, the paper's initialisation, TorchScript export loaded back in C++ and in Python.

#include <gtest/gtest.h>
#include <fmt/format.h>
#include <torch/script.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

namespace fs = std::filesystem;

fs::path scratch_dir() {
  auto dir = fs::temp_directory_path() / ("motornet_policy_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

Policy make(const std::string& yaml, int64_t inputs = 7, int64_t outputs = 4) {
  torch::manual_seed(5);
  return policy_from_config(ConfigNode::parse(yaml).at("policy"), inputs, outputs);
}

const std::vector<std::string> kPolicies = {
    "policy: {type: GRU, hidden_size: 16}",
    "policy: {type: GRU, hidden_size: 8, n_layers: 3}",
    "policy: {type: LSTM, hidden_size: 8, n_layers: 2}",
    "policy: {type: RNN, hidden_size: 12, nonlinearity: relu}",
    "policy: {type: RNN, hidden_size: 12}",
    "policy: {type: MLP, hidden_sizes: [16, 8]}",
};

TEST(Policy, ShapesAndPaperInitialisation) {
  auto policy = make("policy: {type: GRU, hidden_size: 32}");
  EXPECT_EQ(policy->hidden_size(), 32);
  auto hidden = policy->initial_hidden(5);
  EXPECT_EQ(hidden.abs().sum().item<float>(), 0.0f);
  auto [action, next] = policy->forward(torch::randn({5, 7}), hidden);
  EXPECT_EQ(action.sizes(), (std::vector<int64_t>{5, 4}));
  EXPECT_EQ(next.sizes(), (std::vector<int64_t>{5, 32}));
  auto parameters = policy->named_parameters();
  // Recurrent weights orthogonal (orthonormal columns of the [3H, H] matrix), biases zero, readout bias -5.
  auto w_hh = parameters["w_hh_0"];
  EXPECT_TRUE(torch::allclose(w_hh.t().matmul(w_hh), torch::eye(32), 1e-4, 1e-5));
  EXPECT_EQ(parameters["b_ih_0"].abs().sum().item<float>(), 0.0f);
  EXPECT_TRUE(torch::allclose(parameters["readout_bias"], torch::full({4}, -5.0f)));
  // Xavier-uniform: within sqrt(6 / (fan_in + fan_out)).
  auto w_ih = parameters["w_ih_0"];
  EXPECT_LE(w_ih.abs().max().item<float>(), std::sqrt(6.0f / (7 + 96)));
  EXPECT_GT(w_ih.abs().max().item<float>(), 0.5f * std::sqrt(6.0f / (7 + 96)));
  // Muscles start almost silent: sigmoid(-5 + small).
  EXPECT_LT(action.max().item<float>(), 0.1f);
}

TEST(Policy, HiddenNoiseOnlyInTraining) {
  auto policy = make("policy: {type: GRU, hidden_size: 8, hidden_noise: 0.1}");
  auto observation = torch::randn({3, 7});
  policy->eval();
  auto [a1, h1] = policy->forward(observation, policy->initial_hidden(3));
  auto [a2, h2] = policy->forward(observation, policy->initial_hidden(3));
  EXPECT_TRUE(torch::equal(h1, h2));
  policy->train();
  auto [a3, h3] = policy->forward(observation, policy->initial_hidden(3));
  EXPECT_FALSE(torch::equal(h1, h3));
}

void write_rows(std::ofstream& out, const torch::Tensor& tensor) {
  auto rows = tensor.reshape({tensor.size(0), -1}).to(torch::kFloat64);
  for (int64_t i = 0; i < rows.size(0); ++i) {
    for (int64_t j = 0; j < rows.size(1); ++j) out << (j ? " " : "") << fmt::format("{:.9g}", rows[i][j].item<double>());
    out << "\n";
  }
}

torch::Tensor read_rows(std::ifstream& in, int64_t rows, int64_t columns) {
  auto result = torch::zeros({rows, columns}, torch::kFloat64);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < columns; ++j) {
      double value;
      in >> value;
      result[i][j] = value;
    }
  return result;
}

class Export : public ::testing::TestWithParam<std::string> {};

TEST_P(Export, TorchScriptMatchesInCppAndPython) {
  auto policy = make(GetParam());
  policy->eval();
  const auto dir = scratch_dir();
  const auto file = (dir / "policy.pt").string();
  policy->export_torchscript(file);
  torch::manual_seed(11);
  const int64_t B = 5;
  auto observation = torch::randn({B, 7});
  auto hidden = 0.3 * torch::randn({B, policy->hidden_size()});
  auto [action, next] = policy->forward(observation, hidden);

  auto scripted = torch::jit::load(file);
  auto output = scripted.forward({observation, hidden}).toTuple();
  EXPECT_WITHIN(output->elements()[0].toTensor(), action, 1e-6, 0.0, "C++ TorchScript action");
  EXPECT_WITHIN(output->elements()[1].toTensor(), next, 1e-6, 0.0, "C++ TorchScript hidden");
  auto initial = scripted.get_method("initial_hidden")({B}).toTensor();
  EXPECT_TRUE(torch::equal(initial, policy->initial_hidden(B)));

  // Python's torch.jit.load on the same file and inputs.
  const auto input_file = dir / "input.txt", output_file = dir / "output.txt";
  {
    std::ofstream in(input_file);
    in << B << " " << 7 << " " << policy->hidden_size() << "\n";
    write_rows(in, observation);
    write_rows(in, hidden);
  }
  std::string command = fmt::format("/usr/bin/python3 {}/python/run_policy.py {} {} {}", MOTORNET_TESTS_DIR, file,
                                    input_file.string(), output_file.string());
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream out(output_file);
  auto python_initial = read_rows(out, B, policy->hidden_size());
  auto python_action = read_rows(out, B, 4);
  auto python_hidden = read_rows(out, B, policy->hidden_size());
  EXPECT_EQ(python_initial.abs().sum().item<double>(), 0.0);
  EXPECT_WITHIN(python_action, action, 1e-6, 0.0, "Python action");
  EXPECT_WITHIN(python_hidden, next, 1e-6, 0.0, "Python hidden");
}

INSTANTIATE_TEST_SUITE_P(Policies, Export, ::testing::ValuesIn(kPolicies), [](const auto& info) {
  return std::to_string(info.index);
});

TEST(PolicyErrors, BadConfigurations) {
  auto expect = [](const std::string& yaml, const std::string& path, const std::string& fragment) {
    try {
      make(yaml);
      ADD_FAILURE() << "no error for " << yaml;
    } catch (const InputError& error) {
      EXPECT_EQ(error.path(), path) << error.what();
      EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
    }
  };
  expect("policy: {type: GUR}", "policy.type", "unknown policy type 'GUR' (did you mean 'GRU'?)");
  expect("policy: {type: GRU, hidden_units: 3}", "policy.hidden_units", "unknown key");
  expect("policy: {type: GRU, hidden_size: 0}", "policy.hidden_size", "must be at least 1");
  expect("policy: {type: GRU, hidden_size: many}", "policy.hidden_size", "expected a number");
  expect("policy: {type: RNN, nonlinearity: sigmoid}", "policy.nonlinearity", "expected tanh or relu");
  expect("policy: {type: GRU, hidden_noise: -1}", "policy.hidden_noise", "non-negative");
}

}  // namespace
}  // namespace motornet
