#pragma once
// A thread-safe map from YAML `type:` names to factories, shared by every registry (muscles, skeletons,
// presets, tasks, policies, losses). Unknown names are InputErrors that suggest the closest known name.
// Internal.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "motornet/core/config.h"
#include "motornet/core/error.h"

namespace motornet {

template <class Factory>
class NamedRegistry {
 public:
  void add(const std::string& name, Factory factory) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_[name] = std::move(factory);
  }

  // The factory for `name`; an InputError at `path` ("unknown <what> 'name' (did you mean ...)") otherwise.
  Factory find(const std::string& name, const std::string& path, const char* what) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(name);
    if (it != entries_.end()) return it->second;
    std::vector<std::string> known;
    for (const auto& entry : entries_) known.push_back(entry.first);
    const std::string suggestion = closest_match(name, known);
    throw InputError(path, fmt::format("unknown {} '{}'{}; known: {}", what, name,
                                       suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)",
                                       fmt::join(known, ", ")));
  }

  std::vector<std::string> names() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> result;
    for (const auto& entry : entries_) result.push_back(entry.first);
    return result;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Factory> entries_;
};

}  // namespace motornet
