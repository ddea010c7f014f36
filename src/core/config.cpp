#include "motornet/core/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "motornet/core/error.h"

namespace motornet {

namespace {

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Scalar: return "'" + node.Scalar() + "'";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    default: return "nothing";
  }
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

}  // namespace

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

void apply_override(YAML::Node& root, const std::string& assignment, const std::string& origin) {
  const auto equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0)
    throw InputError(origin, fmt::format("expected key.path=value, got '{}'", assignment));
  const std::string key_path = assignment.substr(0, equals);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(equals + 1));
  } catch (const YAML::Exception& error) {
    throw InputError(origin, fmt::format("cannot parse the value of '{}': {}", key_path, error.msg));
  }
  set_config_value(root, key_path, value, origin);
}

void set_config_value(YAML::Node& root, const std::string& key_path, const YAML::Node& value,
                      const std::string& origin) {
  std::vector<std::string> keys;
  std::stringstream stream(key_path);
  for (std::string key; std::getline(stream, key, '.');) {
    if (key.empty()) throw InputError(origin, fmt::format("empty key in '{}'", key_path));
    keys.push_back(key);
  }
  if (keys.empty() || key_path.back() == '.') throw InputError(origin, fmt::format("empty key in '{}'", key_path));
  YAML::Node node;
  node.reset(root);
  std::string walked;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!node.IsMap() && !node.IsNull())
      throw InputError(origin, fmt::format("'{}' is not a map, so '{}' cannot be set", walked, key_path));
    walked += (walked.empty() ? "" : ".") + keys[i];
    if (i + 1 == keys.size()) {
      node[keys[i]] = YAML::Clone(value);
    } else {
      // A key that is not there yet becomes a map (the configuration check then names a misspelt one).
      if (!node[keys[i]]) node[keys[i]] = YAML::Node(YAML::NodeType::Map);
      YAML::Node child = node[keys[i]];
      node.reset(child);
    }
  }
}

ConfigNode::ConfigNode(YAML::Node node, std::string path) : node_(std::move(node)), path_(std::move(path)) {}

ConfigNode ConfigNode::load_file(const std::string& filename) {
  if (std::filesystem::is_directory(filename))
    throw InputError(filename, "is a directory, not a configuration file (a run directory is continued with --resume)");
  std::ifstream stream(filename);
  if (!stream) throw InputError(filename, "cannot open the file for reading");
  std::stringstream buffer;
  buffer << stream.rdbuf();
  if (stream.bad()) throw InputError(filename, "cannot read the file");
  return parse(buffer.str(), filename);
}

namespace {
// YAML parsers keep one of two equal keys in a map without a word (yaml-cpp keeps both and reads the first), so
// `lr: 0.1` written twice would silently train with one of them: refuse it, naming the key and both lines.
void refuse_duplicate_keys(const YAML::Node& node, const std::string& path, const std::string& origin) {
  if (node.IsMap()) {
    std::map<std::string, int> first_line;
    for (const auto& entry : node) {
      const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
      const std::string key_path = path.empty() ? key : path + "." + key;
      if (entry.first.IsScalar()) {
        const int line = entry.first.Mark().line + 1;
        auto [seen, inserted] = first_line.emplace(key, line);
        if (!inserted)
          throw InputError(origin, fmt::format("the key '{}' is given twice (lines {} and {}); remove one",
                                               key_path, seen->second, line));
      }
      refuse_duplicate_keys(entry.second, key_path, origin);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) refuse_duplicate_keys(node[i], fmt::format("{}[{}]", path, i), origin);
  }
}
}  // namespace

ConfigNode ConfigNode::parse(const std::string& text, const std::string& origin) {
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) throw InputError(origin, "expected a map of keys at the top level, got " + describe(root));
    refuse_duplicate_keys(root, "", origin);
    return ConfigNode(root, "");
  } catch (const YAML::Exception& error) {
    throw InputError(origin, fmt::format("malformed YAML/JSON at line {}, column {}: {}", error.mark.line + 1,
                                         error.mark.column + 1, error.msg));
  }
}

void ConfigNode::fail(const std::string& problem) const { throw InputError(path_.empty() ? "<top level>" : path_, problem); }

bool ConfigNode::has(const std::string& key) const {
  return node_.IsMap() && static_cast<bool>(static_cast<const YAML::Node&>(node_)[key]);
}

size_t ConfigNode::size() const { return node_.size(); }

void ConfigNode::require_map() const {
  if (!node_.IsMap()) fail("expected a map of keys, got " + describe(node_));
}

ConfigNode ConfigNode::at(const std::string& key) const {
  require_map();
  auto child_node = static_cast<const YAML::Node&>(node_)[key];
  std::string child_path = path_.empty() ? key : path_ + "." + key;
  if (!child_node) throw InputError(child_path, "required key is missing");
  return ConfigNode(child_node, child_path);
}

ConfigNode ConfigNode::at(size_t index) const {
  if (!node_.IsSequence()) fail("expected a list, got " + describe(node_));
  if (index >= node_.size()) fail(fmt::format("expected at least {} entries, got {}", index + 1, node_.size()));
  return ConfigNode(static_cast<const YAML::Node&>(node_)[index], fmt::format("{}[{}]", path_, index));
}

std::optional<ConfigNode> ConfigNode::child(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return at(key);
}

std::vector<std::string> ConfigNode::keys() const {
  require_map();
  std::vector<std::string> result;
  for (const auto& entry : node_) result.push_back(entry.first.as<std::string>());
  return result;
}

void ConfigNode::check_keys(const std::vector<std::string>& allowed) const {
  for (const auto& key : keys()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string child_path = path_.empty() ? key : path_ + "." + key;
    std::string suggestion = closest_match(key, allowed);
    std::string known;
    for (const auto& name : allowed) known += (known.empty() ? "" : ", ") + name;
    throw InputError(child_path, "unknown key" + (suggestion.empty() ? std::string() : " (did you mean '" + suggestion + "'?)") +
                                     "; known keys: " + known);
  }
}

double ConfigNode::as_double() const {
  if (!node_.IsScalar()) fail("expected a number, got " + describe(node_));
  double value;
  try {
    value = node_.as<double>();
  } catch (const YAML::Exception&) {
    fail("expected a number, got " + describe(node_));
  }
  if (!std::isfinite(value)) fail("expected a finite number, got " + describe(node_));
  return value;
}

int64_t ConfigNode::as_int() const {
  double value = as_double();
  if (value != std::floor(value) || std::fabs(value) > 9.0e15) fail("expected a whole number, got " + describe(node_));
  return static_cast<int64_t>(value);
}

bool ConfigNode::as_bool() const {
  if (!node_.IsScalar()) fail("expected true or false, got " + describe(node_));
  try {
    return node_.as<bool>();
  } catch (const YAML::Exception&) {
    fail("expected true or false, got " + describe(node_));
  }
}

std::string ConfigNode::as_string() const {
  if (!node_.IsScalar()) fail("expected a string, got " + describe(node_));
  return node_.Scalar();
}

std::vector<double> ConfigNode::as_doubles(int64_t expected_size) const {
  if (!node_.IsSequence()) fail("expected a list of numbers, got " + describe(node_));
  if (expected_size >= 0 && static_cast<int64_t>(node_.size()) != expected_size)
    fail(fmt::format("expected {} numbers, got {}", expected_size, node_.size()));
  std::vector<double> values;
  for (size_t i = 0; i < node_.size(); ++i) values.push_back(at(i).as_double());
  return values;
}

std::vector<std::vector<double>> ConfigNode::as_matrix(int64_t expected_columns) const {
  if (!node_.IsSequence()) fail("expected a list of rows, got " + describe(node_));
  std::vector<std::vector<double>> rows;
  for (size_t i = 0; i < node_.size(); ++i) rows.push_back(at(i).as_doubles(expected_columns));
  return rows;
}

double ConfigNode::get_double(const std::string& key, double fallback) const {
  auto value = child(key);
  return value ? value->as_double() : fallback;
}

int64_t ConfigNode::get_int(const std::string& key, int64_t fallback) const {
  auto value = child(key);
  return value ? value->as_int() : fallback;
}

std::string ConfigNode::get_string(const std::string& key, const std::string& fallback) const {
  auto value = child(key);
  return value ? value->as_string() : fallback;
}

}  // namespace motornet
