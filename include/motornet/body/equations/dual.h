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
#include <type_traits>

#include "motornet/body/equations/lanes.h"

namespace motornet::equations {

// The N derivatives of a dual number, with lane-wise +, -, and * and / by a number: a GCC/Clang vector type
// (lanes.h requires the vector extensions anyway), padded to a power of two (the padding lanes stay zero and are
// never read), so that the equations' arithmetic on derivatives is whole-register arithmetic: as a std::array,
// GCC assembled each input's derivatives through the stack, and its 8-byte stores read back as 16-byte loads
// stalled store forwarding (perf annotate on W1: most of the muscles' backward went there).
constexpr int padded_lanes(int n) { return n <= 1 ? 1 : 2 * padded_lanes((n + 1) / 2); }
template <int N>
struct DerivativeStorage {
  typedef double type __attribute__((vector_size(sizeof(double) * padded_lanes(N))));
};
template <int N>
using Derivatives = typename DerivativeStorage<N>::type;

// The derivatives of a dual number over RowLanes: N lane vectors (input i's derivative in every row).
template <int N>
struct LaneDerivatives {
  std::array<RowLanes, N> lanes{};
  RowLanes& operator[](int i) { return lanes[i]; }
  const RowLanes& operator[](int i) const { return lanes[i]; }
  friend LaneDerivatives operator-(LaneDerivatives a) {
    for (auto& x : a.lanes) x = -x;
    return a;
  }
  friend LaneDerivatives operator+(LaneDerivatives a, const LaneDerivatives& b) {
    for (int i = 0; i < N; ++i) a.lanes[i] += b.lanes[i];
    return a;
  }
  friend LaneDerivatives operator-(LaneDerivatives a, const LaneDerivatives& b) {
    for (int i = 0; i < N; ++i) a.lanes[i] -= b.lanes[i];
    return a;
  }
  friend LaneDerivatives operator*(LaneDerivatives a, const RowLanes& s) {
    for (auto& x : a.lanes) x *= s;
    return a;
  }
  friend LaneDerivatives operator/(LaneDerivatives a, const RowLanes& s) {
    for (auto& x : a.lanes) x /= s;
    return a;
  }
};

// `V`: the value type, double (one row) or RowLanes (a block of rows, lanes.h).
template <int N, class V = double>
struct Dual {
  using Grad = std::conditional_t<std::is_same_v<V, double>, Derivatives<N>, LaneDerivatives<N>>;
  V value = V(0.0);
  Grad grad{};  // d value / d input_i, i < N

  Dual() = default;
  Dual(double constant) : value(constant) {}  // NOLINT: constants convert implicitly, as literals do for tensors
  Dual(double value, const Grad& derivatives) : value(value), grad(derivatives) {}
  template <class W = V, class = std::enable_if_t<!std::is_same_v<W, double>>>
  Dual(const V& constant) : value(constant) {}  // NOLINT: a lane constant, as a double one
  template <class W = V, class = std::enable_if_t<!std::is_same_v<W, double>>>
  Dual(const V& value, const Grad& derivatives) : value(value), grad(derivatives) {}

  // The i-th of N independent inputs, at `x`.
  static Dual input(const V& x, int i) {
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
  friend Dual operator*(const Dual& a, double b) { return {a.value * b, a.grad * V(b)}; }
  friend Dual operator*(double a, const Dual& b) { return b * a; }
  friend Dual operator/(const Dual& a, const Dual& b) {
    const V quotient = a.value / b.value;  // the value exactly as in double
    const V inverse = 1.0 / b.value;
    return {quotient, (a.grad - b.grad * quotient) * inverse};
  }
  friend Dual operator/(const Dual& a, double b) { return {a.value / b, a.grad / V(b)}; }
  friend Dual operator/(double a, const Dual& b) {
    const V quotient = a / b.value;
    return {quotient, b.grad * (-quotient / b.value)};
  }

  // A bool for one row, a LaneMask for a block.
  friend auto operator<(const Dual& a, const Dual& b) { return a.value < b.value; }
  friend auto operator<=(const Dual& a, const Dual& b) { return a.value <= b.value; }
  friend auto operator>(const Dual& a, const Dual& b) { return a.value > b.value; }
  friend auto operator>=(const Dual& a, const Dual& b) { return a.value >= b.value; }
  friend auto operator<(const Dual& a, double b) { return a.value < b; }
  friend auto operator<=(const Dual& a, double b) { return a.value <= b; }
  friend auto operator>(const Dual& a, double b) { return a.value > b; }
  friend auto operator>=(const Dual& a, double b) { return a.value >= b; }
  friend auto operator<(double a, const Dual& b) { return a < b.value; }
  friend auto operator<=(double a, const Dual& b) { return a <= b.value; }
  friend auto operator>(double a, const Dual& b) { return a > b.value; }
  friend auto operator>=(double a, const Dual& b) { return a >= b.value; }

  // Elementary functions: f(a) with derivative f'(a) a'. (`using std::exp` and the like: the double overloads
  // for one row, RowLanes' own for a block.)
  friend Dual exp(const Dual& a) {
    using std::exp;
    const V e = exp(a.value);
    return chain(a, e, e);
  }
  friend Dual sqrt(const Dual& a) {
    using std::sqrt;
    const V root = sqrt(a.value);
    return chain(a, root, 0.5 / root);  // infinite at 0, as torch's sqrt
  }
  friend Dual log(const Dual& a) {
    using std::log;
    return chain(a, log(a.value), 1.0 / a.value);
  }
  friend Dual sin(const Dual& a) {
    using std::cos;
    using std::sin;
    return chain(a, sin(a.value), cos(a.value));
  }
  friend Dual cos(const Dual& a) {
    using std::cos;
    using std::sin;
    return chain(a, cos(a.value), -sin(a.value));
  }
  friend Dual tanh(const Dual& a) {
    using std::tanh;
    const V t = tanh(a.value);
    return chain(a, t, 1.0 - t * t);
  }

 private:
  static Dual chain(const Dual& a, const V& value, const V& slope) { return {value, a.grad * slope}; }
};

// where(mask, a, b) on a block of dual numbers: each lane takes its value and derivatives from one side.
template <int N>
Dual<N, RowLanes> select(const LaneMask& m, const Dual<N, RowLanes>& a, const Dual<N, RowLanes>& b) {
  Dual<N, RowLanes> r;
  r.value = select(m, a.value, b.value);
  for (int i = 0; i < N; ++i) r.grad[i] = select(m, a.grad[i], b.grad[i]);
  return r;
}

}  // namespace motornet::equations
