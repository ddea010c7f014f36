#pragma once
// The small set of operations a model's equations are written in, for the three number types they run on:
//   torch::Tensor  the op-by-op path (batched over rows and muscles, autograd, any device, the tests' oracle),
//   double         the fused kernels' forward, one row,
//   RowLanes       the same on a block of rows at once (lanes.h: each lane is the double computation),
//   Dual<N>        the fused kernels' backward (forward-mode derivatives, pullback.h), over double or RowLanes.
// Equations call these unqualified inside namespace motornet::equations; tensor arguments find ATen's functions
// of the same names (exp, sqrt, clamp_min, where, ...) by argument-dependent lookup, numbers find the overloads
// below. A per-muscle parameter is a tensor [M] next to tensors [B, M], and a double next to numbers.
//
// Branch and tie rules, the same on every path: a clamp passes the gradient where its input lies within its
// bounds, ends included (torch's rule); `where` gives the branch it did not select nothing. A branch that is
// computed but not selected must still be finite on the tensor path (autograd multiplies its zero gradient by
// the branch's local derivative): feed such branches harmless inputs, as the models do with clamp_min/clamp_max
// before a branch that only makes sense on one side.

#include <torch/torch.h>

#include <cmath>
#include <string>
#include <type_traits>

#include "motornet/body/equations/dual.h"
#include "motornet/core/error.h"

namespace motornet::equations {

// Numbers (as opposed to tensors): double, RowLanes and Dual<N, V>.
template <class T>
struct IsNumber : std::is_floating_point<T> {};
template <>
struct IsNumber<RowLanes> : std::true_type {};
template <int N, class V>
struct IsNumber<Dual<N, V>> : std::true_type {};
template <class T>
using IfNumber = std::enable_if_t<IsNumber<T>::value, T>;

// where(condition, a, b): `condition` is a bool for one row, a LaneMask for a block of rows (each lane picks its
// side), a bool tensor for tensors.
template <class A, class B>
std::common_type_t<A, B> where(bool condition, const A& a, const B& b) {
  using R = std::common_type_t<A, B>;
  return condition ? R(a) : R(b);
}
// On a block, the result is the wider of the two sides (double < RowLanes < Dual<N, RowLanes>).
template <class A, class B>
auto where(const LaneMask& condition, const A& a, const B& b) {
  using R = std::conditional_t<std::is_same_v<A, double>, std::conditional_t<std::is_same_v<B, double>, RowLanes, B>,
                               std::conditional_t<std::is_same_v<B, double> || std::is_same_v<B, RowLanes>, A, B>>;
  return select(condition, R(a), R(b));
}

// max(x, lo) and min(x, hi) with torch's clamp gradient; NaN stays NaN.
template <class T>
IfNumber<T> clamp_min(const T& x, double lower) {
  return where(x < lower, T(lower), x);
}
template <class T>
IfNumber<T> clamp_max(const T& x, double upper) {
  return where(x > upper, T(upper), x);
}
// clip(x, lo, hi) as two clamps; `lower` may be a per-muscle parameter.
template <class T, class L>
T clip(const T& x, const L& lower, double upper) {
  return clamp_max(clamp_min(x, lower), upper);
}

inline torch::Tensor where(const torch::Tensor& condition, const torch::Tensor& a, double b) {
  return at::where(condition, a, at::scalar_tensor(b, a.options()));
}
inline torch::Tensor where(const torch::Tensor& condition, double a, const torch::Tensor& b) {
  return at::where(condition, at::scalar_tensor(a, b.options()), b);
}
inline bool logical_or(bool a, bool b) { return a || b; }
inline bool logical_and(bool a, bool b) { return a && b; }

// (Templates, so that where the C library's ::exp is visible too, as in user code with `using namespace`, it is
// preferred without ambiguity: it is the same function.)
template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
T exp(T x) {
  return std::exp(x);
}
template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
T sqrt(T x) {
  return std::sqrt(x);
}
template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
T log(T x) {
  return std::log(x);
}
template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
T sin(T x) {
  return std::sin(x);
}
template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
T cos(T x) {
  return std::cos(x);
}

// x², written as x * x on every path (the same rounding and gradient as the product).
template <class T>
T squared(const T& x) {
  return x * x;
}

// A constant (a number or a per-muscle parameter) shaped like `like`, for rows that do not depend on inputs.
template <class T>
IfNumber<T> broadcast(double value, const T&) {
  return T(value);
}
inline torch::Tensor broadcast(double value, const torch::Tensor& like) { return torch::full_like(like, value); }
inline torch::Tensor broadcast(const torch::Tensor& value, const torch::Tensor& like) { return value.expand_as(like); }

// 1 for each muscle, shaped like a per-muscle parameter.
inline double ones_like(double) { return 1.0; }

// A condition that must hold for every row and muscle; `path` and `message` name the input error otherwise.
inline void require_nowhere(bool violated, const std::string& path, const std::string& message) {
  if (violated) throw InputError(path, message);
}
inline void require_nowhere(const torch::Tensor& violated, const std::string& path, const std::string& message) {
  if (violated.any().item<bool>()) throw InputError(path, message);
}

}  // namespace motornet::equations
