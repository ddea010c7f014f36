#include "motornet/core/row_streams.h"

#include <fmt/format.h>

#include "motornet/core/error.h"

namespace motornet {

RowStreams::RowStreams(uint64_t seed) : generators_{at::detail::createCPUGenerator(seed)} {}

RowStreams::RowStreams(std::vector<torch::Generator> generators, Shard shard)
    : generators_(std::move(generators)), shard_(shard) {
  require(!generators_.empty(), "streams", "expected at least one random stream");
  require(shard_.count >= 1 && shard_.index >= 0 && shard_.index < shard_.count, "shard",
          fmt::format("rank {} is not in [0, {})", shard_.index, shard_.count));
}

int64_t RowStreams::local_rows(int64_t rows_per_stream) const {
  require_lazy(rows_per_stream % shard_.count == 0, "batch_size", [&] {
    return fmt::format("{} trials cannot be split evenly across {} processes; use a multiple of {}", rows_per_stream,
                       shard_.count, shard_.count);
  });
  return rows_per_stream / shard_.count * n_streams();
}

int64_t RowStreams::rows_per_stream(int64_t local_rows) const {
  require_lazy(local_rows % n_streams() == 0, "rows", [&] {
    return fmt::format("{} rows do not split into {} equal blocks (one per random stream)", local_rows, n_streams());
  });
  return local_rows / n_streams() * shard_.count;
}

torch::Tensor RowStreams::normal(int64_t local_rows, at::IntArrayRef shape, const torch::TensorOptions& options) {
  const int64_t global = rows_per_stream(local_rows);
  std::vector<int64_t> full{global};
  full.insert(full.end(), shape.begin(), shape.end());
  return per_block<torch::Tensor>(
      global, [&](torch::Generator& generator, int64_t) { return torch::randn(full, generator, options); },
      [](const torch::Tensor& block, int64_t begin, int64_t count) { return block.narrow(0, begin, count); },
      [](const std::vector<torch::Tensor>& blocks) { return torch::cat(blocks, 0); });
}

}  // namespace motornet
