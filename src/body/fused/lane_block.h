#pragma once
// Moving rows in and out of a block of kRowLanes rows (RowLaneStep's arrays, lane l holding row l), and walking a
// range of rows block by block. Internal.
#include <algorithm>
#include <cstdint>

#include "motornet/body/equations/lanes.h"

namespace motornet::fused {

using equations::kRowLanes;
using equations::RowLanes;

// kRowLanes rows of n values each (row l at rows + l * n) into block arrays [n], and back. Each block value is
// built in a register and stored whole: storing lane by lane and reading the vector back at once stalls store
// forwarding on every value.
inline void rows_to_block(const double* rows, int64_t n, RowLanes* block) {
  static_assert(kRowLanes == 4, "rows_to_block gathers four rows");
  for (int64_t i = 0; i < n; ++i) block[i] = RowLanes(RowLanes::Vector{rows[i], rows[n + i], rows[2 * n + i], rows[3 * n + i]});
}
inline void block_to_rows(const RowLanes* block, int64_t n, double* rows) {
  for (int64_t i = 0; i < n; ++i) {
    const RowLanes value = block[i];
    for (int l = 0; l < kRowLanes; ++l) rows[l * n + i] = value[l];
  }
}

// The batch row in lane `lane` of the block of `rows` real rows starting at `first`: lanes past the real rows
// repeat the last one.
inline int64_t block_row(int64_t first, int rows, int lane) { return first + std::min(lane, rows - 1); }

// Calls block(first, rows) for consecutive blocks of at most kRowLanes rows covering [begin, end). A block's
// lanes past `rows` repeat its last row (a real row: every lane computes on valid inputs) and are not written.
template <class Block>
void for_each_block(int64_t begin, int64_t end, Block&& block) {
  for (int64_t first = begin; first < end; first += kRowLanes)
    block(first, static_cast<int>(std::min<int64_t>(kRowLanes, end - first)));
}

}  // namespace motornet::fused
