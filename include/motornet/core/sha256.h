#pragma once
// SHA-256 (FIPS 180-4) of a byte string or a file, as lowercase hex: the same digest `sha256sum` prints, so a
// run's provenance (the configuration a warm start came from) can be checked with standard tools.

#include <string>

namespace motornet {

std::string sha256_hex(const std::string& bytes);
// The digest of a file's contents; an InputError naming the file when it cannot be read.
std::string sha256_of_file(const std::string& filename);

}  // namespace motornet
