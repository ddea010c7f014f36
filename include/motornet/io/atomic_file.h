#pragma once
// Files written atomically: everything is written to TARGET.tmp, flushed, then renamed over TARGET, so that a
// reader (or a resumed run after a crash) never sees half a file. Failures are InputErrors naming TARGET.

#include <functional>
#include <iosfwd>
#include <string>

namespace motornet {

// `write` fills the stream.
void write_file_atomically(const std::string& target, const std::function<void(std::ostream&)>& write);
void write_text_atomically(const std::string& target, const std::string& text);
// For writers that take a file name (HDF5, TorchScript): `write` writes the temporary file it is given.
void write_via_temporary(const std::string& target, const std::function<void(const std::string& temporary)>& write);

}  // namespace motornet
