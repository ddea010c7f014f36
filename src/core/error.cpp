#include "motornet/core/error.h"

namespace motornet {

namespace {
std::string compose(const std::string& path, const std::string& problem) {
  return path.empty() ? problem : path + ": " + problem;
}
}  // namespace

InputError::InputError(std::string path, const std::string& problem)
    : std::runtime_error(compose(path, problem)), path_(std::move(path)), problem_(problem) {}

}  // namespace motornet
