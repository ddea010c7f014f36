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

template <int N>
struct Dual {
  double value = 0.0;
  std::array<double, N> grad{};  // d value / d input_i

  Dual() = default;
  Dual(double constant) : value(constant) {}  // NOLINT: constants convert implicitly, as literals do for tensors

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

  friend Dual operator-(const Dual& a) {
    Dual r(-a.value);
    for (int i = 0; i < N; ++i) r.grad[i] = -a.grad[i];
    return r;
  }
  friend Dual operator+(const Dual& a, const Dual& b) {
    Dual r(a.value + b.value);
    for (int i = 0; i < N; ++i) r.grad[i] = a.grad[i] + b.grad[i];
    return r;
  }
  friend Dual operator+(const Dual& a, double b) {
    Dual r = a;
    r.value += b;
    return r;
  }
  friend Dual operator+(double a, const Dual& b) { return b + a; }
  friend Dual operator-(const Dual& a, const Dual& b) {
    Dual r(a.value - b.value);
    for (int i = 0; i < N; ++i) r.grad[i] = a.grad[i] - b.grad[i];
    return r;
  }
  friend Dual operator-(const Dual& a, double b) { return a + (-b); }
  friend Dual operator-(double a, const Dual& b) { return -b + a; }
  friend Dual operator*(const Dual& a, const Dual& b) {
    Dual r(a.value * b.value);
    for (int i = 0; i < N; ++i) r.grad[i] = a.grad[i] * b.value + a.value * b.grad[i];
    return r;
  }
  friend Dual operator*(const Dual& a, double b) {
    Dual r(a.value * b);
    for (int i = 0; i < N; ++i) r.grad[i] = a.grad[i] * b;
    return r;
  }
  friend Dual operator*(double a, const Dual& b) { return b * a; }
  friend Dual operator/(const Dual& a, const Dual& b) {
    const double quotient = a.value / b.value;  // the value exactly as in double
    const double inverse = 1.0 / b.value;
    Dual r(quotient);
    for (int i = 0; i < N; ++i) r.grad[i] = (a.grad[i] - quotient * b.grad[i]) * inverse;
    return r;
  }
  friend Dual operator/(const Dual& a, double b) {
    Dual r(a.value / b);
    for (int i = 0; i < N; ++i) r.grad[i] = a.grad[i] / b;
    return r;
  }
  friend Dual operator/(double a, const Dual& b) {
    const double quotient = a / b.value;
    Dual r(quotient);
    for (int i = 0; i < N; ++i) r.grad[i] = -quotient / b.value * b.grad[i];
    return r;
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
  static Dual chain(const Dual& a, double value, double slope) {
    Dual r(value);
    for (int i = 0; i < N; ++i) r.grad[i] = slope * a.grad[i];
    return r;
  }
};

}  // namespace motornet::equations
