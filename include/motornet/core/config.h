#pragma once
// Typed, path-aware access to YAML configuration. Every value read through a ConfigNode is checked (type,
// finiteness, length) and every error names the full key path, e.g.
//   effector.muscles[2].coordinates: expected 2 numbers, got 3
// Unknown keys are errors too (`check_keys`), with a suggestion for near misses such as `tendon_lenght`.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

namespace motornet {

class ConfigNode {
 public:
  ConfigNode(YAML::Node node, std::string path);

  // Parses a YAML (or JSON) file; an unreadable or malformed file is an InputError naming the file.
  static ConfigNode load_file(const std::string& filename);
  static ConfigNode parse(const std::string& text, const std::string& origin = "<string>");

  const std::string& path() const { return path_; }
  const YAML::Node& yaml() const { return node_; }
  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }
  bool has(const std::string& key) const;
  size_t size() const;

  // Child access: `at` requires the key, `child` returns an undefined node when it is absent.
  ConfigNode at(const std::string& key) const;
  ConfigNode at(size_t index) const;
  std::optional<ConfigNode> child(const std::string& key) const;

  // Errors for any key of this map not in `allowed`.
  void check_keys(const std::vector<std::string>& allowed) const;
  void require_map() const;
  std::vector<std::string> keys() const;

  // Scalars of this node.
  double as_double() const;  // finite numbers only
  int64_t as_int() const;
  bool as_bool() const;
  std::string as_string() const;
  // A list of finite numbers; `expected_size` < 0 accepts any length.
  std::vector<double> as_doubles(int64_t expected_size = -1) const;
  // A list of lists of finite numbers (a matrix), rows of `expected_columns` each when >= 0.
  std::vector<std::vector<double>> as_matrix(int64_t expected_columns = -1) const;

  // Convenience readers for a key of this map, with a default when the key is absent.
  double get_double(const std::string& key, double fallback) const;
  int64_t get_int(const std::string& key, int64_t fallback) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;

  [[noreturn]] void fail(const std::string& problem) const;

 private:
  YAML::Node node_;
  std::string path_;
};

// Applies a command-line override "key.path=value" to a YAML tree: maps on the path are created as needed and
// the value is parsed as YAML (so "[1, 2]" is a list and "1e-3" a number). InputError names `origin`.
void apply_override(YAML::Node& root, const std::string& assignment, const std::string& origin = "--set");
// The same with the value already a YAML node (a phase's or an evaluation condition's `set:` map); the value is
// copied, so later changes to `root` leave it alone.
void set_config_value(YAML::Node& root, const std::string& key_path, const YAML::Node& value,
                      const std::string& origin = "--set");

// The closest of `candidates` to `word` when it is a plausible typo (small edit distance), else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace motornet
