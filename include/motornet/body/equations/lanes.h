#pragma once
// RowLanes: the same number in kRowLanes rows of a batch at once, the fourth number type a model's equations run
// on (ops.h). The fused environment step computes a block of rows with one pass of the equations over RowLanes
// instead of one pass per row: every operation below is the double operation applied to each lane, so a lane's
// result has the very bits the row would have alone, whatever the other lanes hold (replicates and single runs
// agree bit for bit, and the block step equals the row step: tests/row_lanes_test.cpp).
//
// Comparisons give a LaneMask (a bool per lane); `where`, the clamps and the logical operations take it where the
// double versions take a bool. Elementary functions (exp, log, sin, cos, tanh) call the C library per lane,
// exactly as the double path; the arithmetic and sqrt are whole-vector instructions.

#include <cmath>
#include <cstdint>

namespace motornet::equations {

constexpr int kRowLanes = 4;  // four doubles: one AVX2 register, two SSE2 ones

#if !defined(__GNUC__)
#error "RowLanes needs GCC's or Clang's vector extensions"
#endif

// Both types are aligned to their whole width: a vector_size type gets only the alignment the baseline instruction
// set knows (16 bytes without AVX), while the AVX2 clones of the kernels load and store them with aligned 32-byte
// instructions. With the explicit alignment, arrays of them (std::vector uses aligned new) and stack temporaries
// are 32-byte aligned everywhere.
struct alignas(kRowLanes * sizeof(int64_t)) LaneMask {
  typedef int64_t Vector __attribute__((vector_size(kRowLanes * sizeof(int64_t))));
  Vector bits;  // all ones where true, zero where false
  LaneMask(const Vector& b) : bits(b) {}  // NOLINT: what a vector comparison gives
  LaneMask(const LaneMask& other) : bits(other.bits) {}  // whole-vector copies, as RowLanes'
  LaneMask& operator=(const LaneMask& other) {
    bits = other.bits;
    return *this;
  }
  bool operator[](int i) const { return bits[i] != 0; }
  bool any() const {
    Vector folded = bits;
    int64_t any = 0;
    for (int i = 0; i < kRowLanes; ++i) any |= folded[i];
    return any != 0;
  }
  friend LaneMask operator&(const LaneMask& a, const LaneMask& b) { return LaneMask(a.bits & b.bits); }
  friend LaneMask operator|(const LaneMask& a, const LaneMask& b) { return LaneMask(a.bits | b.bits); }
};

struct alignas(kRowLanes * sizeof(double)) RowLanes {
  typedef double Vector __attribute__((vector_size(kRowLanes * sizeof(double))));
  Vector v;

  RowLanes() : v{} {}
  // Copies move the whole vector: left to GCC, a copy of the struct went through two 16-byte halves, and reading
  // it back as one vector stalled store forwarding (perf annotate on W1: the muscles' backward waited there).
  RowLanes(const RowLanes& other) : v(other.v) {}
  RowLanes& operator=(const RowLanes& other) {
    v = other.v;
    return *this;
  }
  RowLanes(double x) : v(Vector{} + x) {}  // NOLINT: constants broadcast implicitly, as they convert for doubles
  explicit RowLanes(const Vector& lanes) : v(lanes) {}
  double operator[](int i) const { return v[i]; }
  void set(int i, double x) { v[i] = x; }

  RowLanes& operator+=(const RowLanes& b) { return *this = *this + b; }
  RowLanes& operator-=(const RowLanes& b) { return *this = *this - b; }
  RowLanes& operator*=(const RowLanes& b) { return *this = *this * b; }
  RowLanes& operator/=(const RowLanes& b) { return *this = *this / b; }

  friend RowLanes operator-(const RowLanes& a) { return RowLanes(-a.v); }
  friend RowLanes operator+(const RowLanes& a, const RowLanes& b) { return RowLanes(a.v + b.v); }
  friend RowLanes operator-(const RowLanes& a, const RowLanes& b) { return RowLanes(a.v - b.v); }
  friend RowLanes operator*(const RowLanes& a, const RowLanes& b) { return RowLanes(a.v * b.v); }
  friend RowLanes operator/(const RowLanes& a, const RowLanes& b) { return RowLanes(a.v / b.v); }
  friend RowLanes operator+(const RowLanes& a, double b) { return RowLanes(a.v + b); }
  friend RowLanes operator+(double a, const RowLanes& b) { return RowLanes(a + b.v); }
  friend RowLanes operator-(const RowLanes& a, double b) { return RowLanes(a.v - b); }
  friend RowLanes operator-(double a, const RowLanes& b) { return RowLanes(a - b.v); }
  friend RowLanes operator*(const RowLanes& a, double b) { return RowLanes(a.v * b); }
  friend RowLanes operator*(double a, const RowLanes& b) { return RowLanes(a * b.v); }
  friend RowLanes operator/(const RowLanes& a, double b) { return RowLanes(a.v / b); }
  friend RowLanes operator/(double a, const RowLanes& b) { return RowLanes(a / b.v); }

  friend LaneMask operator<(const RowLanes& a, const RowLanes& b) { return LaneMask(a.v < b.v); }
  friend LaneMask operator<=(const RowLanes& a, const RowLanes& b) { return LaneMask(a.v <= b.v); }
  friend LaneMask operator>(const RowLanes& a, const RowLanes& b) { return LaneMask(a.v > b.v); }
  friend LaneMask operator>=(const RowLanes& a, const RowLanes& b) { return LaneMask(a.v >= b.v); }
  friend LaneMask operator==(const RowLanes& a, const RowLanes& b) { return LaneMask(a.v == b.v); }
  friend LaneMask operator!=(const RowLanes& a, const RowLanes& b) { return LaneMask(a.v != b.v); }

  friend RowLanes sqrt(const RowLanes& a) {  // correctly rounded, as std::sqrt
    RowLanes r;
    for (int i = 0; i < kRowLanes; ++i) r.v[i] = __builtin_sqrt(a.v[i]);
    return r;
  }
  friend RowLanes exp(const RowLanes& a) { return each(a, [](double x) { return std::exp(x); }); }
  friend RowLanes log(const RowLanes& a) { return each(a, [](double x) { return std::log(x); }); }
  friend RowLanes sin(const RowLanes& a) { return each(a, [](double x) { return std::sin(x); }); }
  friend RowLanes cos(const RowLanes& a) { return each(a, [](double x) { return std::cos(x); }); }
  friend RowLanes tanh(const RowLanes& a) { return each(a, [](double x) { return std::tanh(x); }); }

 private:
  template <class F>
  static RowLanes each(const RowLanes& a, F f) {
    RowLanes r;
    for (int i = 0; i < kRowLanes; ++i) r.v[i] = f(a.v[i]);
    return r;
  }
};

// Lane i of the result is a's where the mask is set, else b's.
inline RowLanes select(const LaneMask& m, const RowLanes& a, const RowLanes& b) {
  return RowLanes(m.bits ? a.v : b.v);
}

inline LaneMask logical_and(const LaneMask& a, const LaneMask& b) { return a & b; }
inline LaneMask logical_or(const LaneMask& a, const LaneMask& b) { return a | b; }

}  // namespace motornet::equations
