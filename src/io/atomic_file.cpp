#include "motornet/io/atomic_file.h"

#include <filesystem>
#include <fstream>

#include "motornet/core/error.h"

namespace motornet {

void write_via_temporary(const std::string& target, const std::function<void(const std::string& temporary)>& write) {
  const std::string temporary = target + ".tmp";
  // Whatever stops the writer (a full disk, a LibTorch or HDF5 error), the temporary file goes and the previous
  // file stays as it was.
  try {
    write(temporary);
  } catch (const InputError& error) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    // The user knows the file by its own name, not by the temporary's.
    if (error.path() == temporary) throw InputError(target, error.problem());
    throw;
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw;
  }
  std::error_code error;
  std::filesystem::rename(temporary, target, error);
  if (error) {
    const std::string reason = error.message();  // before `remove` reuses the error code
    std::filesystem::remove(temporary, error);
    throw InputError(target, "could not move the file into place: " + reason);
  }
}

void write_file_atomically(const std::string& target, const std::function<void(std::ostream&)>& write) {
  write_via_temporary(target, [&](const std::string& temporary) {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(target, "cannot open the output file for writing");
    write(out);
    out.flush();
    if (!out) throw InputError(target, "could not write the file (disk full?)");
  });
}

void write_text_atomically(const std::string& target, const std::string& text) {
  write_file_atomically(target, [&](std::ostream& out) { out << text; });
}

}  // namespace motornet
