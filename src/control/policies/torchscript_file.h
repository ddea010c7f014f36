#pragma once
// Writes a scripted policy to a file. The module is serialised in memory first: LibTorch's file writer reports
// a full disk from its destructor, which aborts the process; written through a checked stream, the error is an
// InputError naming the file instead (and the caller's temporary file is removed, see io/atomic_file.h).
// Internal.

#include <torch/script.h>

#include <fstream>
#include <sstream>
#include <string>

#include "motornet/core/error.h"

namespace motornet {

inline void save_torchscript_file(const torch::jit::Module& module, const std::string& filename) {
  std::ostringstream buffer;
  module.save(buffer);
  std::ofstream out(filename, std::ios::binary | std::ios::trunc);
  require(out.good(), filename, "cannot open the file for writing");
  const std::string bytes = buffer.str();
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  require(out.good(), filename, "could not write the file (disk full?)");
}

}  // namespace motornet
