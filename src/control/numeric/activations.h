#pragma once
// Sigmoid and tanh for the fused policy step's inner loops (internal). In float32 they are written so the
// compiler vectorises them (no library call inside the loop): a scalar std::exp/std::tanh loop cost ~14% of an
// arm26 training batch. Accuracy: within a few float32 ulps of the exact value (see activations_test).
// float64 keeps the library functions: it is the precision used to check gradients, not to train fast.
#include <cmath>
#include <cstdint>
#include <cstring>

namespace motornet::numeric {

// e^x for float32, from e^x = 2^k e^r with k = round(x / ln 2) and |r| <= ln(2)/2, where the degree-7 Taylor
// polynomial of e^r is accurate to ~5e-9 (relative). Clamped to the normal range: below -87.3 the result is
// ~1e-38 rather than a denormal, above 88.3 it stays finite (~2e38).
inline float exp_vectorisable(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to the nearest integer
  const float k = (x * 1.44269504088896341f + kRound) - kRound;
  const float r = (x - k * 0.693145751953125f) - k * 1.42860682030941723e-06f;  // ln 2 split so k * hi is exact
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;  // 2^k as a float's exponent field
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline float sigmoid(float x) { return 1.0f / (1.0f + exp_vectorisable(-x)); }
inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// tanh x = 1 - 2 / (e^{2x} + 1), except near 0 where that difference cancels: there its Taylor series to x^7,
// whose first omitted term is below 2e-10 for |x| < 1/8.
inline float tanh(float x) {
  const float x2 = x * x;
  const float series = x * (1.0f + x2 * (-1.0f / 3.0f + x2 * (2.0f / 15.0f + x2 * (-17.0f / 315.0f))));
  const float far = 1.0f - 2.0f / (exp_vectorisable(2.0f * x) + 1.0f);
  return x2 < 1.0f / 64.0f ? series : far;
}
inline double tanh(double x) { return std::tanh(x); }

}  // namespace motornet::numeric
