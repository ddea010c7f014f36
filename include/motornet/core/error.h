#pragma once
// The one exception type for bad user input (configuration files, scenario files, arguments of the C++ API).
// It carries the path of the offending key in the configuration ("effector.muscles[2].coordinates") so that a
// user can find the mistake; apps print `what()` and exit with status 2.

#include <stdexcept>
#include <string>

namespace motornet {

class InputError : public std::runtime_error {
 public:
  // `path` may be empty when the error is not tied to a configuration key.
  InputError(std::string path, const std::string& problem);

  const std::string& path() const { return path_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string path_;
  std::string problem_;
};

// Throws InputError(path, problem) unless `condition` holds.
inline void require(bool condition, const std::string& path, const std::string& problem) {
  if (!condition) throw InputError(path, problem);
}

// As `require`, for hot paths: the message is only built (by calling `problem()`) when the check fails.
template <class Problem>
inline void require_lazy(bool condition, const char* path, Problem&& problem) {
  if (!condition) throw InputError(path, problem());
}

// Runs `body`; an InputError it throws is rethrown with its path placed under `prefix` (so library code can
// report keys relative to the configuration block it was given: "timestep" becomes "effector.timestep").
template <class Body>
auto under_path(const std::string& prefix, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const InputError& error) {
    const std::string& path = error.path();
    const bool already_under = path.compare(0, prefix.size(), prefix) == 0 &&
                               (path.size() == prefix.size() || path[prefix.size()] == '.' || path[prefix.size()] == '[');
    if (prefix.empty() || already_under) throw;
    throw InputError(error.path().empty() ? prefix : prefix + "." + error.path(), error.problem());
  }
}

}  // namespace motornet
