#pragma once
// Whole-string integer parsing for text the library reads back (environment variables, its own CSV files):
// the integer, or nothing when the text is empty, has anything besides the number, or is out of range.

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

namespace motornet {

inline std::optional<int64_t> parse_integer(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (end != text.c_str() + text.size() || errno == ERANGE) return std::nullopt;
  return static_cast<int64_t>(value);
}

}  // namespace motornet
