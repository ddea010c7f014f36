#pragma once
// Data-parallel training on LibTorch's c10d: a TCPStore rendezvous and a Gloo process group. Every rank holds
// the same parameters, runs its shard of the global batch (see row_streams.h) and the ranks average their
// gradients with one all-reduce per batch. Rank 0 hosts the store and alone writes files.
//
// Failures are named: a rank that dies or hangs makes the others stop within `timeout` with a DistributedError
// saying which rank stopped and where; a busy port, a bad rank or world size, two processes claiming one rank,
// and ranks started with different configurations are reported at start.

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace motornet {

// A failure of the process group (another rank, the network): not the user's input, not a bug here.
class DistributedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DistributedOptions {
  // RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT as torchrun and SLURM scripts set them, and
  // MOTORNET_DIST_TIMEOUT (s); InputError naming the variable when one is malformed.
  static DistributedOptions from_environment();
  // Whether WORLD_SIZE is set (a run started by a launcher).
  static bool in_environment();
  TORCH_ARG(int64_t, rank) = 0;
  TORCH_ARG(int64_t, world_size) = 1;
  TORCH_ARG(std::string, master_addr) = "127.0.0.1";
  TORCH_ARG(int64_t, master_port) = 29500;
  // s: how long the rendezvous and every collective wait for a missing rank before giving up.
  TORCH_ARG(double, timeout) = 300.0;

};

class DataParallelGroup {
 public:
  // Joins the group (blocking until every rank has, or `timeout`).
  explicit DataParallelGroup(DistributedOptions options);
  ~DataParallelGroup();

  int64_t rank() const { return options_.rank(); }
  int64_t world_size() const { return options_.world_size(); }
  const DistributedOptions& options() const { return options_; }

  // Fails at every rank, naming the first rank that differs from rank 0, unless all ranks pass the same
  // `value` (a configuration, say) for `what`.
  void require_same(const std::string& what, const std::string& value);
  // Sums the tensors elementwise over the ranks, in place; `batch` names the point of the run in messages.
  void all_reduce_sum(std::vector<torch::Tensor>& tensors, int64_t batch);
  // Copies rank 0's tensors to every rank, in place.
  void broadcast(std::vector<torch::Tensor>& tensors);

 private:
  [[noreturn]] void fail(const std::string& during, int64_t batch, const std::string& cause);

  DistributedOptions options_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int64_t collectives_ = 0;
};

}  // namespace motornet
