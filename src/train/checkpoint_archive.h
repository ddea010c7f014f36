#pragma once
// The bytes of checkpoint.pt: LibTorch's archive followed by a trailer with the archive's SHA-256,
//   <archive bytes>\nmotornet-sha256:<64 hex digits>\n
// so that a checkpoint damaged on disk (a flipped bit, a truncated copy) is refused when it is read instead of
// silently resuming from altered weights; LibTorch's reader does not notice a changed tensor. The archive's zip
// directory is found from the end of the file, past the trailer, so the file still loads with torch::load and
// torch::jit::load. Checkpoints written before the trailer load unchecked. Internal.

#include <torch/serialize.h>

#include <string>

namespace motornet {

// The archive's bytes with their trailer.
std::string sealed_checkpoint_bytes(const std::string& archive_bytes);

// Loads `path` into `archive` after checking its digest: an InputError naming the file when it is damaged or
// unreadable.
void load_checkpoint_archive(const std::string& path, torch::serialize::InputArchive& archive);

}  // namespace motornet
