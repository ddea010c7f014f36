#pragma once
// Helpers shared by the test suites.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

namespace motornet::testing {

// Runs a shell command line; returns its exit status (-1 if it did not exit) and its output (stdout+stderr).
struct CommandResult {
  int status;
  std::string output;
};
inline CommandResult run_command(const std::string& command_line) {
  FILE* pipe = popen((command_line + " 2>&1").c_str(), "r");
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

inline std::string data_path(const std::string& relative) { return std::string(MOTORNET_TEST_DATA_DIR) + "/" + relative; }

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A process started in the background (by spawn_process) with its output in `log`.
struct Worker {
  pid_t pid = -1;
  std::string log;
  // Its exit status (128 + the signal that killed it).
  int wait() const {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // The status within `seconds`, else -1 after killing the process (a process that ignored a signal must fail
  // the test, not hang it).
  int wait_within(double seconds) const {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    int status = 0;
    while (std::chrono::steady_clock::now() < give_up) {
      if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
  std::string output() const { return read_text(log); }
};

// Nested JSON arrays of numbers → a float64 tensor of the same shape.
inline torch::Tensor json_to_tensor(const nlohmann::json& value) {
  if (value.is_number()) return torch::tensor(value.get<double>(), torch::kFloat64);
  std::vector<torch::Tensor> items;
  for (const auto& item : value) items.push_back(json_to_tensor(item));
  return torch::stack(items);
}

// Largest violation of |a - b| <= absolute + relative |b|, as a ratio (<= 1 passes), with where it happens.
struct ToleranceReport {
  double worst_ratio = 0.0;
  int64_t worst_index = -1;
  double actual = 0.0, expected = 0.0;
};

inline ToleranceReport compare(const torch::Tensor& actual, const torch::Tensor& expected, double absolute,
                               double relative) {
  auto a = actual.detach().to(torch::kFloat64).flatten();
  auto b = expected.detach().to(torch::kFloat64).flatten();
  ToleranceReport report;
  if (a.numel() != b.numel()) {
    report.worst_ratio = INFINITY;
    return report;
  }
  auto ratio = (a - b).abs() / (absolute + relative * b.abs());
  ratio = torch::where(torch::isnan(ratio), torch::full_like(ratio, INFINITY), ratio);
  if (ratio.numel() == 0) return report;
  auto index = ratio.argmax().item<int64_t>();
  report.worst_ratio = ratio[index].item<double>();
  report.worst_index = index;
  report.actual = a[index].item<double>();
  report.expected = b[index].item<double>();
  return report;
}

#define EXPECT_WITHIN(ACTUAL, EXPECTED, ABSOLUTE, RELATIVE, WHAT)                                         \
  do {                                                                                                  \
    auto _actual = (ACTUAL);                                                                            \
    auto _expected = (EXPECTED);                                                                        \
    EXPECT_EQ(_actual.sizes().vec(), _expected.sizes().vec()) << WHAT << ": shapes differ";             \
    auto _report = ::motornet::testing::compare(_actual, _expected, (ABSOLUTE), (RELATIVE));           \
    EXPECT_LE(_report.worst_ratio, 1.0) << WHAT << ": worst element " << _report.worst_index << " is "  \
                                        << _report.actual << ", expected " << _report.expected          \
                                        << " (" << _report.worst_ratio << " times the tolerance)";      \
  } while (0)

}  // namespace motornet::testing

namespace motornet::testing {

// Compares autograd's vector-Jacobian product of `f` with central finite differences, in float64: for a fixed
// random cotangent v, g = d(v·f)/dx for every input x. Returns the worst, over inputs, of
// |g_autograd - g_numeric| / (1 + |g_numeric|) in the Euclidean norm (a wrong derivative gives O(1)).
inline double worst_gradient_error(const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>& f,
                                   std::vector<torch::Tensor> inputs, double eps = 1e-6) {
  torch::manual_seed(1234);
  for (auto& x : inputs) x = x.detach().to(torch::kFloat64).clone().requires_grad_(true);
  auto output = f(inputs);
  auto cotangent = torch::randn_like(output);
  auto analytic = torch::autograd::grad({(output * cotangent).sum()}, inputs, {}, false, false, true);
  double worst = 0.0;
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto base = inputs[i].detach();
    auto numeric = torch::zeros_like(base);
    for (int64_t j = 0; j < base.numel(); ++j) {
      auto evaluate = [&](double shift) {
        auto shifted = inputs;
        auto x = base.clone();
        x.view(-1)[j] += shift;
        shifted[i] = x;
        return (f(shifted) * cotangent).sum().item<double>();
      };
      numeric.view(-1)[j] = (evaluate(eps) - evaluate(-eps)) / (2.0 * eps);
    }
    auto exact = analytic[i].defined() ? analytic[i] : torch::zeros_like(base);
    double error = (exact - numeric).norm().item<double>() / (1.0 + numeric.norm().item<double>());
    worst = std::max(worst, error);
  }
  return worst;
}

}  // namespace motornet::testing
