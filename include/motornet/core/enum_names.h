#pragma once
// Typed choices. Options that pick one of a few behaviours (the integration method, the kernels, the optimizer,
// the learning-rate schedule) are enums, as in LibTorch's options structs, not strings; their names exist only at
// the edges (YAML, --set, the key lists, messages). Each enum declares its names once, beside it, in an
// `enum_names` overload (found by argument-dependent lookup): the first name of a value is the one written back,
// later ones are accepted aliases. Names match whatever their case.
//
//   inline const EnumNameTable<IntegrationMethod>& enum_names(IntegrationMethod) {
//     static const EnumNameTable<IntegrationMethod> table{
//         "integration method", {{"euler", IntegrationMethod::kEuler}, {"rk4", IntegrationMethod::kRungeKutta4}}};
//     return table;
//   }

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <type_traits>
#include <vector>

#include "motornet/core/config.h"
#include "motornet/core/error.h"

namespace motornet {

template <class E>
struct EnumName {
  const char* name;
  E value;
};

template <class E>
struct EnumNameTable {
  const char* what;              // how messages call the choice ("integration method")
  std::vector<EnumName<E>> names;
};

namespace enum_names_detail {
inline std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}
}  // namespace enum_names_detail

// The names a value is written with, one per value (no aliases), in declaration order.
template <class E>
std::vector<std::string> canonical_names() {
  const auto& table = enum_names(E{}).names;
  std::vector<std::string> names;
  for (auto entry = table.begin(); entry != table.end(); ++entry)
    if (std::none_of(table.begin(), entry, [&](const auto& earlier) { return earlier.value == entry->value; }))
      names.push_back(entry->name);
  return names;
}

// The name `value` is written with.
template <class E>
std::string enum_name(E value) {
  for (const auto& entry : enum_names(E{}).names)
    if (entry.value == value) return entry.name;
  return fmt::format("<{} {}>", enum_names(E{}).what, static_cast<int>(value));
}

// The value named `name` (any case, aliases included); else an InputError at `path` naming the choices.
template <class E>
E parse_enum(const std::string& name, const std::string& path) {
  const std::string lower = enum_names_detail::lowercase(name);
  for (const auto& entry : enum_names(E{}).names)
    if (enum_names_detail::lowercase(entry.name) == lower) return entry.value;
  const auto names = canonical_names<E>();
  const std::string suggestion = closest_match(lower, names);
  throw InputError(path, fmt::format("unknown {} '{}'{}; use {}", enum_names(E{}).what, name,
                                     suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)",
                                     fmt::join(names, ", ")));
}

}  // namespace motornet
