#pragma once
// How a model declares a per-muscle parameter: its name in configurations, its default and its valid range.

#include <optional>
#include <string>

namespace motornet {

struct MuscleParameterSpec {
  enum class Range { kAny, kPositive, kNonNegative, kActivation /* [0, 1) */ };
  std::string name;
  std::optional<double> default_value;  // nullopt: the user must give it
  Range range = Range::kPositive;
};

}  // namespace motornet
