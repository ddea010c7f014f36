#pragma once
// A muscle model from one statement of its equations. An equation set is a struct of static templates over the
// number type (motornet/body/equations/ops.h); EquationMuscleImpl<Equations> instantiates them with tensors for
// the op-by-op path and EquationMuscleKernel<Equations> with doubles for the fused forward and with dual
// numbers for its backward (equations/pullback.h). Nothing is written twice and no derivative by hand.
//
// An equation set provides (see equations/relu_muscle.h, the smallest, and equations/rigid_tendon.h, which
// supplies the activation-only parts of every rigid-tendon model):
//   kStateNames         std::array of the K state row names; row 0 "activation", one row "force"
//   kDerivatives        rows of `ode` (1: the activation rate)
//   kOdeReads           std::array of the state rows `ode` reads
//   kIntegrateReads     std::array of the state rows `integrate` reads
//   Parameters<P>       per-muscle parameters (P = tensor [M] or double), with an `activation` member
//   fields(p, f)        declares each parameter once: f.given(p.x, {name, default, range}) or f.derived(p.y, name)
//   derive(p)           derived parameters from the given ones (runs in float64, then rounds once)
//   check(p)            InputError for invalid values of one muscle (Parameters<double>)
//   ode(p, u, rows)                      -> std::array<T, kDerivatives>
//   integrate(p, h, derivative, rows, musculotendon_length, musculotendon_velocity) -> std::array<T, K>
//   rest(p, h, musculotendon_length, musculotendon_velocity)                       -> std::array<T, K>
//   proprioceptive_length_scale(p), proprioceptive_velocity_scale(p)               -> P
//
// The equations are the model: a subclass of an EquationMuscleImpl cannot replace `ode` or `integrate` (they are
// final), so whatever runs op by op is what the kernel runs. A different model is a different equation set
// (examples/custom_force_length_muscle.cpp); a model written directly in tensor operations derives from
// MuscleImpl and steps op by op.

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "motornet/body/equations/pullback.h"
#include "motornet/body/fused/kernels.h"
#include "motornet/body/muscle.h"

namespace motornet {

namespace equations {

// Calls `on_given(field, spec)` / `on_derived(field, name)` for each parameter an equation set declares.
template <class OnGiven, class OnDerived>
struct FieldVisitor {
  OnGiven on_given;
  OnDerived on_derived;
  template <class P>
  void given(P& field, const MuscleParameterSpec& spec) {
    on_given(field, spec);
  }
  template <class P>
  void derived(P& field, const char* name) {
    on_derived(field, name);
  }
};
template <class OnGiven, class OnDerived>
FieldVisitor<OnGiven, OnDerived> field_visitor(OnGiven on_given, OnDerived on_derived) {
  return {std::move(on_given), std::move(on_derived)};
}

// One Parameters<double> per muscle from the parameter tensors [M] (their values as stored, in double).
template <class Equations>
std::vector<typename Equations::template Parameters<double>> per_muscle(
    typename Equations::template Parameters<torch::Tensor> tensors) {
  std::vector<std::vector<double>> columns;
  auto read = [&](torch::Tensor& t, const auto&) {
    auto flat = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
    columns.emplace_back(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
  };
  auto reader = field_visitor(read, read);
  Equations::fields(tensors, reader);
  const size_t n_muscles = columns.empty() ? 0 : columns.front().size();
  std::vector<typename Equations::template Parameters<double>> muscles(n_muscles);
  for (size_t m = 0; m < n_muscles; ++m) {
    size_t column = 0;
    auto assign = [&](double& x, const auto&) { x = columns[column++][m]; };
    auto writer = field_visitor(assign, assign);
    Equations::fields(muscles[m], writer);
  }
  return muscles;
}

template <class Equations>
constexpr int64_t force_row() {
  const auto& names = Equations::kStateNames;
  for (size_t r = 0; r < names.size(); ++r)
    if (std::string_view(names[r]) == "force") return static_cast<int64_t>(r);
  return -1;
}

// Copies `count` values of x starting at `offset` (splitting a pullback's input vector back into arguments).
template <size_t Count, size_t Offset, class T, size_t N>
std::array<T, Count> slice(const std::array<T, N>& x) {
  std::array<T, Count> out;
  for (size_t i = 0; i < Count; ++i) out[i] = x[Offset + i];
  return out;
}

}  // namespace equations

// The fused kernel of an equation set: per muscle, the equations on doubles; their vector-Jacobian products from
// the same equations on dual numbers (one forward-mode pass over the few inputs of a muscle).
template <class Equations>
class EquationMuscleKernel final : public fused::MuscleKernel {
  static constexpr size_t K = Equations::kStateNames.size();
  static constexpr size_t ND = Equations::kDerivatives;
  static constexpr size_t NO = Equations::kOdeReads.size();
  static constexpr size_t NI = Equations::kIntegrateReads.size();
  static_assert(equations::force_row<Equations>() >= 0, "an equation set needs a state row named \"force\"");

 public:
  using Parameters = typename Equations::template Parameters<double>;

  explicit EquationMuscleKernel(std::vector<Parameters> muscles)
      : fused::MuscleKernel(min_activations(muscles), K, equations::force_row<Equations>(), ND),
        muscles_(std::move(muscles)) {}

  void ode(const double* excitation, const double* state, double* derivative) const override {
    ode_rows(muscles_.data(), n_muscles(), excitation, state, derivative);
  }
  void ode_vjp(const double* excitation, const double* state, const double* grad_derivative,
               double* grad_excitation, double* grad_state) const override {
    ode_vjp_rows(muscles_.data(), n_muscles(), excitation, state, grad_derivative, grad_excitation, grad_state);
  }
  void integrate(double h, const double* derivative, const double* state, const double* geometry,
                 double* next) const override {
    integrate_rows(muscles_.data(), n_muscles(), h, derivative, state, geometry, next);
  }
  void integrate_vjp(double h, const double* derivative, const double* state, const double* geometry,
                     const double* grad_next, double* grad_derivative, double* grad_state,
                     double* grad_geometry) const override {
    integrate_vjp_rows(muscles_.data(), n_muscles(), h, derivative, state, geometry, grad_next, grad_derivative,
                       grad_state, grad_geometry);
  }
  // Blocks of rows: the same loops, on RowLanes.
  bool has_row_lanes() const override { return true; }
  void ode(const fused::RowLanes* excitation, const fused::RowLanes* state,
           fused::RowLanes* derivative) const override {
    ode_rows(muscles_.data(), n_muscles(), excitation, state, derivative);
  }
  void ode_vjp(const fused::RowLanes* excitation, const fused::RowLanes* state,
               const fused::RowLanes* grad_derivative, fused::RowLanes* grad_excitation,
               fused::RowLanes* grad_state) const override {
    ode_vjp_rows(muscles_.data(), n_muscles(), excitation, state, grad_derivative, grad_excitation, grad_state);
  }
  void integrate(double h, const fused::RowLanes* derivative, const fused::RowLanes* state,
                 const fused::RowLanes* geometry, fused::RowLanes* next) const override {
    integrate_rows(muscles_.data(), n_muscles(), h, derivative, state, geometry, next);
  }
  void integrate_vjp(double h, const fused::RowLanes* derivative, const fused::RowLanes* state,
                     const fused::RowLanes* geometry, const fused::RowLanes* grad_next,
                     fused::RowLanes* grad_derivative, fused::RowLanes* grad_state,
                     fused::RowLanes* grad_geometry) const override {
    integrate_vjp_rows(muscles_.data(), n_muscles(), h, derivative, state, geometry, grad_next, grad_derivative,
                       grad_state, grad_geometry);
  }

  void initial_state(double h, const double* geometry, double* state) const override {
    const int64_t M = n_muscles();
    for (int64_t m = 0; m < M; ++m) {
      const auto rows = Equations::rest(muscles_[m], h, geometry[m], geometry[M + m]);
      for (size_t r = 0; r < K; ++r) state[r * M + m] = rows[r];
    }
  }

 private:
  static std::vector<double> min_activations(const std::vector<Parameters>& muscles) {
    std::vector<double> values;
    for (const auto& p : muscles) values.push_back(p.activation.min_activation);
    return values;
  }
  // The loops over the muscles of one row (V = double) or of a block of rows (V = RowLanes); static:
  // multiversioned, see MOTORNET_KERNEL_LOOP.
  template <class V>
  MOTORNET_KERNEL_LOOP static void ode_rows(const Parameters* muscles, int64_t M, const V* excitation,
                                            const V* state, V* derivative) {
    for (int64_t m = 0; m < M; ++m) {
      const auto rates = Equations::ode(muscles[m], excitation[m], gather<NO>(Equations::kOdeReads, state, M, m));
      for (size_t r = 0; r < ND; ++r) derivative[r * M + m] = rates[r];
    }
  }

  template <class V>
  MOTORNET_KERNEL_LOOP static void ode_vjp_rows(const Parameters* muscles, int64_t M, const V* excitation,
                                                const V* state, const V* grad_derivative, V* grad_excitation,
                                                V* grad_state) {
    constexpr int N = 1 + NO;  // the excitation, then the rows read
    for (int64_t m = 0; m < M; ++m) {
      std::array<V, N> x;
      x[0] = excitation[m];
      const auto rows = gather<NO>(Equations::kOdeReads, state, M, m);
      std::copy(rows.begin(), rows.end(), x.begin() + 1);
      std::array<V, N> grad{};
      const auto& p = muscles[m];
      equations::pullback<N>(
          [&](const auto& in) { return Equations::ode(p, in[0], equations::slice<NO, 1>(in)); }, x,
          grad_derivative + m, M, grad);
      grad_excitation[m] += grad[0];
      for (size_t i = 0; i < NO; ++i) grad_state[Equations::kOdeReads[i] * M + m] += grad[1 + i];
    }
  }

  template <class V>
  MOTORNET_KERNEL_LOOP static void integrate_rows(const Parameters* muscles, int64_t M, double h,
                                                  const V* derivative, const V* state, const V* geometry, V* next) {
    for (int64_t m = 0; m < M; ++m) {
      const auto rows = Equations::integrate(muscles[m], h, gather<ND>(kFirstRows, derivative, M, m),
                                             gather<NI>(Equations::kIntegrateReads, state, M, m), geometry[m],
                                             geometry[M + m]);
      for (size_t r = 0; r < K; ++r) next[r * M + m] = rows[r];
    }
  }

  template <class V>
  MOTORNET_KERNEL_LOOP static void integrate_vjp_rows(const Parameters* muscles, int64_t M, double h,
                                                      const V* derivative, const V* state, const V* geometry,
                                                      const V* grad_next, V* grad_derivative, V* grad_state,
                                                      V* grad_geometry) {
    constexpr int N = ND + NI + 2;  // derivative rows, state rows read, musculotendon length and velocity
    for (int64_t m = 0; m < M; ++m) {
      std::array<V, N> x;
      const auto rates = gather<ND>(kFirstRows, derivative, M, m);
      const auto rows = gather<NI>(Equations::kIntegrateReads, state, M, m);
      std::copy(rates.begin(), rates.end(), x.begin());
      std::copy(rows.begin(), rows.end(), x.begin() + ND);
      x[ND + NI] = geometry[m];
      x[ND + NI + 1] = geometry[M + m];
      std::array<V, N> grad{};
      const auto& p = muscles[m];
      equations::pullback<N>(
          [&](const auto& in) {
            return Equations::integrate(p, h, equations::slice<ND, 0>(in), equations::slice<NI, ND>(in), in[ND + NI],
                                        in[ND + NI + 1]);
          },
          x, grad_next + m, M, grad);
      for (size_t r = 0; r < ND; ++r) grad_derivative[r * M + m] += grad[r];
      for (size_t i = 0; i < NI; ++i) grad_state[Equations::kIntegrateReads[i] * M + m] += grad[ND + i];
      grad_geometry[m] += grad[ND + NI];
      grad_geometry[M + m] += grad[ND + NI + 1];
    }
  }

  static constexpr std::array<int, 4> kFirstRows = {0, 1, 2, 3};
  // Muscle m's values of the given rows of a [rows*M] array.
  template <size_t Count, class Rows, class V>
  static std::array<V, Count> gather(const Rows& which, const V* x, int64_t M, int64_t m) {
    std::array<V, Count> out;
    for (size_t i = 0; i < Count; ++i) out[i] = x[which[i] * M + m];
    return out;
  }

  std::vector<Parameters> muscles_;
};

template <class Equations>
class EquationMuscleImpl : public MuscleImpl {
 public:
  template <class P>
  using Parameters = typename Equations::template Parameters<P>;

  using MuscleImpl::MuscleImpl;

  std::vector<std::string> state_names() const final {
    return {Equations::kStateNames.begin(), Equations::kStateNames.end()};
  }
  std::vector<MuscleParameterSpec> parameter_specs() const final {
    std::vector<MuscleParameterSpec> specs;
    Parameters<double> unused;
    auto collect = equations::field_visitor([&](double&, const MuscleParameterSpec& s) { specs.push_back(s); },
                                            [](double&, const char*) {});
    Equations::fields(unused, collect);
    return specs;
  }
  int64_t n_derivatives() const final { return Equations::kDerivatives; }

  torch::Tensor ode(const torch::Tensor& excitation, const torch::Tensor& muscle_state) const final {
    return stack(Equations::ode(parameters_, excitation, rows(Equations::kOdeReads, muscle_state)));
  }
  torch::Tensor integrate(double h, const torch::Tensor& derivative, const torch::Tensor& muscle_state,
                          const torch::Tensor& geometry_state) const final {
    return stack(Equations::integrate(parameters_, h, rows<Equations::kDerivatives>(derivative),
                                      rows(Equations::kIntegrateReads, muscle_state), geometry_state.select(1, 0),
                                      geometry_state.select(1, 1)));
  }
  torch::Tensor initial_state(const torch::Tensor& geometry_state) const final {
    return stack(Equations::rest(parameters_, ministep(), geometry_state.select(1, 0), geometry_state.select(1, 1)));
  }
  torch::Tensor proprioceptive_length_scale() const final {
    return Equations::proprioceptive_length_scale(parameters_);
  }
  torch::Tensor proprioceptive_velocity_scale() const final {
    return Equations::proprioceptive_velocity_scale(parameters_);
  }
  std::shared_ptr<const fused::MuscleKernel> fused_kernel() const final {
    return std::make_shared<EquationMuscleKernel<Equations>>(equations::per_muscle<Equations>(parameters_));
  }

  // The parameter buffers [M] (given and derived), in the module's dtype.
  const Parameters<torch::Tensor>& parameters() const { return parameters_; }

 protected:
  void on_build() final {
    // The buffers hold float64 values here; derived constants are computed from them before the one cast.
    Parameters<torch::Tensor> p;
    auto read_given = equations::field_visitor(
        [&](torch::Tensor& t, const MuscleParameterSpec& spec) { t = parameter(spec.name); },
        [](torch::Tensor&, const char*) {});
    Equations::fields(p, read_given);
    Equations::derive(p);
    for (const auto& muscle : equations::per_muscle<Equations>(p)) Equations::check(muscle);
    auto register_derived = equations::field_visitor([](torch::Tensor&, const MuscleParameterSpec&) {},
                                                     [&](torch::Tensor& t, const char* name) { t = set_buffer(name, t); });
    Equations::fields(p, register_derived);
    parameters_ = p;
  }

 private:
  template <size_t N>
  static std::array<torch::Tensor, N> rows(const torch::Tensor& x) {
    std::array<torch::Tensor, N> out;
    for (size_t i = 0; i < N; ++i) out[i] = x.select(1, static_cast<int64_t>(i));
    return out;
  }
  template <class Which>
  static auto rows(const Which& which, const torch::Tensor& x) {
    std::array<torch::Tensor, std::tuple_size<Which>::value> out;
    for (size_t i = 0; i < out.size(); ++i) out[i] = x.select(1, which[i]);
    return out;
  }
  template <size_t N>
  static torch::Tensor stack(const std::array<torch::Tensor, N>& rows) {
    return torch::stack(std::vector<torch::Tensor>(rows.begin(), rows.end()), 1);
  }

  Parameters<torch::Tensor> parameters_;
};

}  // namespace motornet
