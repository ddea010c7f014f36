#pragma once
// RowStreams: where the random numbers of a batch come from. A batch's rows are grouped in blocks, one per
// stream (one stream per replicate network; a plain run has one), and each stream is one seeded generator.
// A data-parallel process holds only its shard of every block: it still draws every row of the block (the
// whole global batch) and keeps its own, so that all processes' generators stay in step and the batch, its
// noise and the result do not depend on how many processes share the work.
//
// A draw of `rows` local rows with trailing shape `shape` returns [rows, shape...]: block k, stream k's draw of
// rows_per_stream = rows / n_streams * shard_count rows, narrowed to this shard.

#include <torch/torch.h>

#include <vector>

namespace motornet {

struct Shard {
  int64_t index = 0;  // this process's rank
  int64_t count = 1;  // how many processes share every block
};

class RowStreams {
 public:
  explicit RowStreams(uint64_t seed = 0);
  explicit RowStreams(std::vector<torch::Generator> generators, Shard shard = {});

  int64_t n_streams() const { return static_cast<int64_t>(generators_.size()); }
  const Shard& shard() const { return shard_; }
  torch::Generator& generator(int64_t stream) { return generators_.at(stream); }
  const torch::Generator& generator(int64_t stream) const { return generators_.at(stream); }

  // Rows this process holds of a batch with `rows_per_stream` rows in every block (InputError if the shards
  // would be uneven).
  int64_t local_rows(int64_t rows_per_stream) const;
  // The global rows of one block from the local row count (the inverse of local_rows).
  int64_t rows_per_stream(int64_t local_rows) const;
  // This shard's rows of a block: [begin, begin + count).
  int64_t shard_begin(int64_t rows_per_stream) const { return rows_per_stream / shard_.count * shard_.index; }

  // Standard normal draws [local_rows, shape...], block by block as described above.
  torch::Tensor normal(int64_t local_rows, at::IntArrayRef shape, const torch::TensorOptions& options);
  // Calls draw(generator, rows_per_stream) once per stream and concatenates this shard's rows of each result
  // along dimension 0; for draws that are not plain tensors (trials), `keep` and `join` say how.
  template <typename T, typename Draw, typename Keep, typename Join>
  T per_block(int64_t rows_per_stream, Draw draw, Keep keep, Join join) {
    std::vector<T> blocks;
    const int64_t begin = shard_begin(rows_per_stream), count = rows_per_stream / shard_.count;
    for (auto& generator : generators_) {
      T block = draw(generator, rows_per_stream);
      blocks.push_back(shard_.count == 1 ? std::move(block) : keep(block, begin, count));
    }
    return blocks.size() == 1 ? std::move(blocks.front()) : join(blocks);
  }

 private:
  std::vector<torch::Generator> generators_;
  Shard shard_;
};

}  // namespace motornet
