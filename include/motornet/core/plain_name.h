#pragma once
// Plain names (letters, digits, '_', '-', '.'): safe as a directory name and as a CSV cell, as the names of
// training phases and evaluation conditions must be.

#include <cctype>
#include <string>

namespace motornet {

inline bool is_plain_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

}  // namespace motornet
