#pragma once
// Options declared once. An options struct (TORCH_ARG fields, LibTorch style) gets one table that names, for
// each option, its YAML key, where it lives in the struct, a one-line description and its check. From that one
// table come: the YAML reader (unknown keys are errors with "did you mean"; --set edits the YAML before it is
// read, so it goes through the same reader), the checks of options however they were made (YAML or C++), each
// error naming the key, and the key lists with their defaults (`motornet-train --list-options`, which the
// README's "Configuration keys" section is checked against).
//
//   const OptionTable<TwoDofArmOptions>& table() {
//     static const auto table = OptionTable<TwoDofArmOptions>()
//         .add(MOTORNET_OPTION(m1), "upper arm mass (kg)", checks::positive())
//         .add(MOTORNET_OPTION(viscosity), "joint viscosity (N m s/rad)", checks::finite());
//     return table;
//   }

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "motornet/core/config.h"
#include "motornet/core/enum_names.h"
#include "motornet/core/error.h"

// The key and the accessor of a TORCH_ARG option `name`: its non-const getter returns the stored value.
#define MOTORNET_OPTION(name) #name, [](auto& options) -> auto& { return options.name(); }

namespace motornet {

// A check of one value: the problem ("must be positive, got -1"), or nothing when the value is fine.
template <class Value>
using OptionCheck = std::function<std::optional<std::string>(const Value&)>;

namespace checks {
inline OptionCheck<double> finite() {
  return [](double v) -> std::optional<std::string> {
    if (std::isfinite(v)) return std::nullopt;
    return fmt::format("must be finite, got {}", v);
  };
}
inline OptionCheck<double> positive() {
  return [](double v) -> std::optional<std::string> {
    if (std::isfinite(v) && v > 0.0) return std::nullopt;
    return fmt::format("must be positive, got {}", v);
  };
}
inline OptionCheck<double> non_negative() {
  return [](double v) -> std::optional<std::string> {
    if (std::isfinite(v) && v >= 0.0) return std::nullopt;
    return fmt::format("must be a non-negative number, got {}", v);
  };
}
// lower <= v <= upper.
inline OptionCheck<double> between(double lower, double upper) {
  return [=](double v) -> std::optional<std::string> {
    if (v >= lower && v <= upper) return std::nullopt;
    return fmt::format("must lie in [{}, {}], got {}", lower, upper, v);
  };
}
// Unset, or positive.
inline OptionCheck<std::optional<double>> positive_if_set() {
  return [](const std::optional<double>& v) -> std::optional<std::string> {
    if (!v || (std::isfinite(*v) && *v > 0.0)) return std::nullopt;
    return fmt::format("must be positive, got {}", *v);
  };
}
inline OptionCheck<double> fraction() { return between(0.0, 1.0); }
// A time window [earliest, latest] in s.
inline OptionCheck<std::vector<double>> window() {
  return [](const std::vector<double>& w) -> std::optional<std::string> {
    if (w.size() != 2) return fmt::format("expected 2 numbers [earliest, latest] in s, got {}", w.size());
    if (!(w[0] >= 0.0 && w[1] >= w[0])) return fmt::format("expected 0 <= earliest <= latest, got [{}, {}]", w[0], w[1]);
    return std::nullopt;
  };
}
// Every element finite and >= 0.
inline OptionCheck<std::vector<double>> each_non_negative() {
  return [](const std::vector<double>& values) -> std::optional<std::string> {
    for (double v : values)
      if (!(std::isfinite(v) && v >= 0.0)) return fmt::format("must be a non-negative number, got {}", v);
    return std::nullopt;
  };
}
inline OptionCheck<int64_t> at_least(int64_t lower, const char* meaning = "") {
  return [=](int64_t v) -> std::optional<std::string> {
    if (v >= lower) return std::nullopt;
    if (lower == 0) return fmt::format("must not be negative{}, got {}", meaning, v);
    return fmt::format("must be at least {}{}, got {}", lower, meaning, v);
  };
}
}  // namespace checks

namespace option_values {
// Reading one value of a YAML node into an option of each type an options struct uses.
inline void read(const ConfigNode& node, double& value) { value = node.as_double(); }
inline void read(const ConfigNode& node, int64_t& value) { value = node.as_int(); }
inline void read(const ConfigNode& node, uint64_t& value) {
  const int64_t v = node.as_int();
  if (v < 0) node.fail(fmt::format("must not be negative, got {}", v));
  value = static_cast<uint64_t>(v);
}
inline void read(const ConfigNode& node, bool& value) { value = node.as_bool(); }
inline void read(const ConfigNode& node, std::string& value) { value = node.as_string(); }
inline void read(const ConfigNode& node, std::vector<double>& value) {
  // One number stands for a list of one (e.g. a noise level for every channel).
  value = node.is_scalar() ? std::vector<double>{node.as_double()} : node.as_doubles();
}
inline void read(const ConfigNode& node, std::vector<std::vector<double>>& value) { value = node.as_matrix(); }
inline void read(const ConfigNode& node, std::vector<int64_t>& value) {
  if (!node.is_sequence()) node.fail("expected a list of whole numbers");
  value.clear();
  for (size_t i = 0; i < node.size(); ++i) value.push_back(node.at(i).as_int());
}
inline void read(const ConfigNode& node, std::optional<double>& value) { value = node.as_double(); }
// A typed choice by one of its names (core/enum_names.h).
template <class E, std::enable_if_t<std::is_enum_v<E>, int> = 0>
void read(const ConfigNode& node, E& value) {
  value = parse_enum<E>(node.as_string(), node.path());
}
inline void read(const ConfigNode& node, std::optional<std::vector<double>>& value) {
  value = node.is_scalar() ? std::vector<double>{node.as_double()} : node.as_doubles();
}

// A value as YAML flow text, for the key lists.
template <class Value>
std::string show(const Value& value) {
  if constexpr (std::is_same_v<Value, bool>) {
    return value ? "true" : "false";
  } else if constexpr (std::is_same_v<Value, std::string>) {
    return value.empty() ? "\"\"" : value;
  } else if constexpr (std::is_arithmetic_v<Value>) {
    return fmt::format("{}", value);
  } else if constexpr (std::is_enum_v<Value>) {
    return enum_name(value);
  } else {
    return fmt::format("[{}]", fmt::join(value, ", "));
  }
}
inline std::string show(const std::optional<double>& value) { return value ? show(*value) : "none"; }
inline std::string show(const std::optional<std::vector<double>>& value) { return value ? show(*value) : "none"; }
inline std::string show(const std::vector<std::vector<double>>& value) {
  std::vector<std::string> rows;
  for (const auto& row : value) rows.push_back(show(row));
  return fmt::format("[{}]", fmt::join(rows, ", "));
}
}  // namespace option_values

template <class Options>
class OptionTable {
 public:
  // One option: its key, its storage (MOTORNET_OPTION gives both), a description and an optional check.
  template <class Access, class Value = std::decay_t<std::invoke_result_t<Access, Options&>>>
  OptionTable& add(const char* key, Access access, std::string description, OptionCheck<Value> check = {}) {
    Entry entry;
    entry.key = key;
    entry.description = std::move(description);
    entry.read = [access](const ConfigNode& node, Options& options) { option_values::read(node, access(options)); };
    // `access` on a const struct reaches TORCH_ARG's const getter.
    entry.show = [access](const Options& options) { return option_values::show(access(options)); };
    if (check) entry.check = [access, check](const Options& options) { return check(access(options)); };
    entries_.push_back(std::move(entry));
    return *this;
  }

  // A check across options (e.g. min_lr <= lr), reported at `key`.
  OptionTable& rule(const char* key, std::function<std::optional<std::string>(const Options&)> check) {
    rules_.push_back({key, std::move(check)});
    return *this;
  }

  // Reads the options of a YAML map over `options` (keys absent keep their value) and checks them; unknown keys
  // (other than `other_keys`, which the caller reads) are errors naming the key, with a suggestion.
  Options read(const ConfigNode& block, Options options = Options(),
               const std::vector<std::string>& other_keys = {}) const {
    block.require_map();
    block.check_keys(keys_and(other_keys));
    return assign(block, std::move(options));
  }

  // The same without the unknown-key check, for a block that several tables share (the caller checks its keys).
  Options assign(const ConfigNode& block, Options options = Options()) const {
    for (const auto& entry : entries_)
      if (auto node = block.child(entry.key)) entry.read(*node, options);
    check(options, block.path());
    return options;
  }

  // Throws InputError at `prefix.key` for the first option that fails its check.
  void check(const Options& options, const std::string& prefix = "") const {
    auto at = [&](const std::string& key) { return prefix.empty() ? key : prefix + "." + key; };
    for (const auto& entry : entries_)
      if (entry.check)
        if (auto problem = entry.check(options)) throw InputError(at(entry.key), *problem);
    for (const auto& [key, check] : rules_)
      if (auto problem = check(options)) throw InputError(at(key), *problem);
  }

  std::vector<std::string> keys() const {
    std::vector<std::string> result;
    for (const auto& entry : entries_) result.push_back(entry.key);
    return result;
  }
  // The table's keys followed by `others` (those a block shares with other tables or its caller reads).
  std::vector<std::string> keys_and(const std::vector<std::string>& others) const {
    auto result = keys();
    result.insert(result.end(), others.begin(), others.end());
    return result;
  }

  // A Markdown table: key, default (from `defaults`), description.
  std::string markdown(const Options& defaults = Options()) const {
    std::ostringstream out;
    out << "| key | default | meaning |\n|---|---|---|\n";
    for (const auto& entry : entries_)
      out << "| `" << entry.key << "` | `" << entry.show(defaults) << "` | " << entry.description << " |\n";
    return out.str();
  }

 private:
  struct Entry {
    std::string key, description;
    std::function<void(const ConfigNode&, Options&)> read;
    std::function<std::string(const Options&)> show;
    std::function<std::optional<std::string>(const Options&)> check;
  };
  std::vector<Entry> entries_;
  std::vector<std::pair<std::string, std::function<std::optional<std::string>(const Options&)>>> rules_;
};

}  // namespace motornet
