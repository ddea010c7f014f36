#include "motornet/train/checkpoint.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "motornet/core/error.h"
#include "motornet/core/sha256.h"
#include "motornet/io/atomic_file.h"
#include "train/checkpoint_archive.h"

namespace motornet {

void write_checkpoint(const std::string& path, const CheckpointParts& parts, CheckpointPosition position) {
  TORCH_CHECK(parts.policy && parts.optimizer, "write_checkpoint: no policy or optimizer");
  torch::serialize::OutputArchive archive, policy_archive, optimizer_archive;
  parts.policy->save(policy_archive);
  parts.optimizer->save(optimizer_archive);
  archive.write("policy", policy_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("environment_generator", parts.trial_generator.get_state());
  archive.write("noise_generator", parts.noise_generator.get_state());
  archive.write("batch", torch::tensor(position.batch, torch::kInt64));
  archive.write("elapsed", torch::tensor(position.elapsed, torch::kFloat64));
  archive.write("configuration_sha256", c10::IValue(position.configuration_sha256));
  // Serialized in memory first: LibTorch's archive writer finishes the file in its destructor, where a write
  // error (a full disk) would end the process; written from memory, the error is ours to report.
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file_atomically(path, [&](std::ostream& out) { out << sealed_checkpoint_bytes(bytes.str()); });
}

namespace {
const std::string kDigestTag = "\nmotornet-sha256:";
constexpr size_t kDigestLength = 64;
}  // namespace

std::string sealed_checkpoint_bytes(const std::string& archive_bytes) {
  return archive_bytes + kDigestTag + sha256_hex(archive_bytes) + "\n";
}

void load_checkpoint_archive(const std::string& path, torch::serialize::InputArchive& archive) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), path, "cannot open the checkpoint for reading");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  require(!in.bad(), path, "cannot read the checkpoint");
  const size_t trailer = kDigestTag.size() + kDigestLength + 1;
  if (bytes.size() >= trailer && bytes.compare(bytes.size() - trailer, kDigestTag.size(), kDigestTag) == 0) {
    const std::string recorded = bytes.substr(bytes.size() - kDigestLength - 1, kDigestLength);
    bytes.resize(bytes.size() - trailer);
    require(sha256_hex(bytes) == recorded, path,
            "is damaged: its contents no longer match the SHA-256 recorded when it was written (resume from a "
            "copy, or start the run again)");
  }
  std::istringstream stream(std::move(bytes));
  archive.load_from(stream);
}

CheckpointPosition read_checkpoint(const std::string& path, CheckpointParts parts) {
  TORCH_CHECK(parts.policy && parts.optimizer, "read_checkpoint: no policy or optimizer");
  require(std::filesystem::exists(path), path, "no checkpoint to resume from");
  try {
    torch::serialize::InputArchive archive, policy_archive, optimizer_archive;
    load_checkpoint_archive(path, archive);
    archive.read("policy", policy_archive);
    archive.read("optimizer", optimizer_archive);
    load_parameters_checked(*parts.policy, policy_archive, path);
    parts.optimizer->load(optimizer_archive);
    torch::Tensor trial_state, noise_state, batch, elapsed;
    archive.read("environment_generator", trial_state);
    archive.read("noise_generator", noise_state);
    archive.read("batch", batch);
    archive.read("elapsed", elapsed);
    c10::IValue configuration;
    std::string configuration_sha256;
    if (archive.try_read("configuration_sha256", configuration) && configuration.isString())
      configuration_sha256 = configuration.toStringRef();
    parts.trial_generator.set_state(trial_state);
    parts.noise_generator.set_state(noise_state);
    return {batch.item<int64_t>(), elapsed.item<double>(), configuration_sha256};
  } catch (const c10::Error& error) {
    std::string what = error.what_without_backtrace();
    throw InputError(path, "the checkpoint is corrupt or does not match this configuration (" +
                               what.substr(0, what.find('\n')) + ")");
  }
}

int64_t read_checkpoint_batch(const std::string& path) {
  require(std::filesystem::exists(path), path, "no checkpoint to resume from");
  try {
    torch::serialize::InputArchive archive;
    load_checkpoint_archive(path, archive);
    torch::Tensor batch;
    archive.read("batch", batch);
    return batch.item<int64_t>();
  } catch (const c10::Error& error) {
    std::string what = error.what_without_backtrace();
    throw InputError(path, "the checkpoint is corrupt (" + what.substr(0, what.find('\n')) + ")");
  }
}

}  // namespace motornet
