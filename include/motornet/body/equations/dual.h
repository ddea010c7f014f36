#pragma once
// Forward-mode dual numbers: a value and its derivatives with respect to N inputs. Evaluating a model's
// equations (written once over the number type, see ops.h) with Dual<N> inputs yields the outputs and their whole
// Jacobian in one pass; pullback.h turns that into the vector-Jacobian product the fused kernels' backward needs.
// N is small (the few inputs of one muscle or one joint), so the derivative arrays stay in registers and the
// loops unroll.
//
// Comparisons compare values only: a branch (`where`, a clamp) picks one side exactly as the forward pass does,
// and the derivative is that side's, which is the tensor path's rule too (ops.h).

#include <array>
#include <cmath>

namespace motornet::equations {

// The N derivatives of a dual number, with lane-wise +, -, and * and / by a number. With GCC or Clang a vector
// type (padded to a power of two; the padding lanes stay zero and are never read), so that the equations'
// arithmetic on derivatives is whole-register arithmetic: as a std::array, GCC assembled each input's
// derivatives through the stack, and its 8-byte stores read back as 16-byte loads stalled store forwarding
// (perf annotate on W1: most of the muscles' backward went there).
#if defined(__GNUC__)
constexpr int padded_lanes(int n) { return n <= 1 ? 1 : 2 * padded_lanes((n + 1) / 2); }
template <int N>
struct DerivativeStorage {
  typedef double type __attribute__((vector_size(sizeof(double) * padded_lanes(N))));
};
template <int N>
using Derivatives = typename DerivativeStorage<N>::type;
#else
template <int N>
struct Derivatives {
  std::array<double, N> lanes{};
  double& operator[](int i) { return lanes[i]; }
  double operator[](int i) const { return lanes[i]; }
  friend Derivatives operator-(Derivatives a) {
    for (auto& x : a.lanes) x = -x;
    return a;
  }
  friend Derivatives operator+(Derivatives a, const Derivatives& b) {
    for (int i = 0; i < N; ++i) a.lanes[i] += b.lanes[i];
    return a;
  }
  friend Derivatives operator-(const Derivatives& a, const Derivatives& b) { return a + (-b); }
  friend Derivatives operator*(Derivatives a, double s) {
    for (auto& x : a.lanes) x *= s;
    return a;
  }
  friend Derivatives operator/(Derivatives a, double s) {
    for (auto& x : a.lanes) x /= s;
    return a;
  }
};
#endif

template <int N>
struct Dual {
  double value = 0.0;
  Derivatives<N> grad{};  // d value / d input_i, i < N

  Dual() = default;
  Dual(double constant) : value(constant) {}  // NOLINT: constants convert implicitly, as literals do for tensors
  Dual(double value, const Derivatives<N>& derivatives) : value(value), grad(derivatives) {}

  // The i-th of N independent inputs, at `x`.
  static Dual input(double x, int i) {
    Dual d(x);
    d.grad[i] = 1.0;
    return d;
  }

  Dual& operator+=(const Dual& b) { return *this = *this + b; }
  Dual& operator-=(const Dual& b) { return *this = *this - b; }
  Dual& operator*=(const Dual& b) { return *this = *this * b; }
  Dual& operator/=(const Dual& b) { return *this = *this / b; }

  friend Dual operator-(const Dual& a) { return {-a.value, -a.grad}; }
  friend Dual operator+(const Dual& a, const Dual& b) { return {a.value + b.value, a.grad + b.grad}; }
  friend Dual operator+(const Dual& a, double b) { return {a.value + b, a.grad}; }
  friend Dual operator+(double a, const Dual& b) { return b + a; }
  friend Dual operator-(const Dual& a, const Dual& b) { return {a.value - b.value, a.grad - b.grad}; }
  friend Dual operator-(const Dual& a, double b) { return a + (-b); }
  friend Dual operator-(double a, const Dual& b) { return -b + a; }
  friend Dual operator*(const Dual& a, const Dual& b) {
    return {a.value * b.value, a.grad * b.value + b.grad * a.value};
  }
  friend Dual operator*(const Dual& a, double b) { return {a.value * b, a.grad * b}; }
  friend Dual operator*(double a, const Dual& b) { return b * a; }
  friend Dual operator/(const Dual& a, const Dual& b) {
    const double quotient = a.value / b.value;  // the value exactly as in double
    const double inverse = 1.0 / b.value;
    return {quotient, (a.grad - b.grad * quotient) * inverse};
  }
  friend Dual operator/(const Dual& a, double b) { return {a.value / b, a.grad / b}; }
  friend Dual operator/(double a, const Dual& b) {
    const double quotient = a / b.value;
    return {quotient, b.grad * (-quotient / b.value)};
  }

  friend bool operator<(const Dual& a, const Dual& b) { return a.value < b.value; }
  friend bool operator<=(const Dual& a, const Dual& b) { return a.value <= b.value; }
  friend bool operator>(const Dual& a, const Dual& b) { return a.value > b.value; }
  friend bool operator>=(const Dual& a, const Dual& b) { return a.value >= b.value; }
  friend bool operator<(const Dual& a, double b) { return a.value < b; }
  friend bool operator<=(const Dual& a, double b) { return a.value <= b; }
  friend bool operator>(const Dual& a, double b) { return a.value > b; }
  friend bool operator>=(const Dual& a, double b) { return a.value >= b; }
  friend bool operator<(double a, const Dual& b) { return a < b.value; }
  friend bool operator<=(double a, const Dual& b) { return a <= b.value; }
  friend bool operator>(double a, const Dual& b) { return a > b.value; }
  friend bool operator>=(double a, const Dual& b) { return a >= b.value; }

  // Elementary functions: f(a) with derivative f'(a) a'.
  friend Dual exp(const Dual& a) { return chain(a, std::exp(a.value), std::exp(a.value)); }
  friend Dual sqrt(const Dual& a) {
    const double root = std::sqrt(a.value);
    return chain(a, root, 0.5 / root);  // infinite at 0, as torch's sqrt
  }
  friend Dual log(const Dual& a) { return chain(a, std::log(a.value), 1.0 / a.value); }
  friend Dual sin(const Dual& a) { return chain(a, std::sin(a.value), std::cos(a.value)); }
  friend Dual cos(const Dual& a) { return chain(a, std::cos(a.value), -std::sin(a.value)); }
  friend Dual tanh(const Dual& a) {
    const double t = std::tanh(a.value);
    return chain(a, t, 1.0 - t * t);
  }

 private:
  static Dual chain(const Dual& a, double value, double slope) { return {value, a.grad * slope}; }
};

}  // namespace motornet::equations
