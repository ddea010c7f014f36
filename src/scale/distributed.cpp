#include "motornet/scale/distributed.h"

#include <fmt/format.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>
#include <sstream>
#include <thread>

#include "motornet/core/error.h"
#include "motornet/core/parse_integer.h"

namespace motornet {

namespace {

constexpr const char* kPrefix = "motornet/";

std::string environment_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : fallback;
}

int64_t integer_variable(const char* name, int64_t fallback) {
  const std::string text = environment_or(name, "");
  if (text.empty()) return fallback;
  if (const auto value = parse_integer(text)) return *value;
  throw InputError(name, fmt::format("expected an integer, got '{}'", text));
}

std::string bytes_to_string(const std::vector<uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }
std::vector<uint8_t> string_to_bytes(const std::string& text) { return std::vector<uint8_t>(text.begin(), text.end()); }

bool is_loopback(const std::string& address) {
  return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// Collectives move one flat float64 buffer: Gloo's CPU collectives take one tensor, and float64 sums exactly
// what float32 gradients hold.
torch::Tensor flatten(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> flat;
  for (const auto& tensor : tensors) flat.push_back(tensor.detach().reshape({-1}).to(torch::kFloat64));
  return torch::cat(flat);
}

void unflatten_into(std::vector<torch::Tensor>& tensors, const torch::Tensor& buffer) {
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (auto& tensor : tensors) {
    const int64_t n = tensor.numel();
    tensor.copy_(buffer.narrow(0, offset, n).view(tensor.sizes()));
    offset += n;
  }
}

// The process count and this process's rank, named as the environment variables that give them.
void check_world(int64_t world_size, int64_t rank) {
  require(world_size >= 1, "WORLD_SIZE", fmt::format("must be at least 1, got {}", world_size));
  require(rank >= 0 && rank < world_size, "RANK",
          fmt::format("must lie in [0, WORLD_SIZE = {}), got {}", world_size, rank));
}

}  // namespace

bool DistributedOptions::in_environment() { return !environment_or("WORLD_SIZE", "").empty(); }

DistributedOptions DistributedOptions::from_environment() {
  DistributedOptions options;
  options.world_size(integer_variable("WORLD_SIZE", 1));
  options.rank(integer_variable("RANK", 0));
  // Set, they must make sense: WORLD_SIZE=0 would otherwise quietly train alone.
  check_world(options.world_size(), options.rank());
  options.master_addr(environment_or("MASTER_ADDR", "127.0.0.1"));
  options.master_port(integer_variable("MASTER_PORT", 29500));
  const std::string timeout = environment_or("MOTORNET_DIST_TIMEOUT", "");
  if (!timeout.empty()) {
    char* end = nullptr;
    const double seconds = std::strtod(timeout.c_str(), &end);
    require(end && *end == '\0' && seconds > 0.0, "MOTORNET_DIST_TIMEOUT",
            fmt::format("expected a positive number of seconds, got '{}'", timeout));
    options.timeout(seconds);
  }
  return options;
}

struct DataParallelGroup::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
  bool failed = false;  // a collective failed: its work may still be queued on a peer that never answers
};

DataParallelGroup::DataParallelGroup(DistributedOptions options) : options_(std::move(options)), impl_(new Impl) {
  const int64_t N = options_.world_size(), rank = options_.rank();
  check_world(N, rank);
  require(options_.master_port() >= 1 && options_.master_port() <= 65535, "MASTER_PORT",
          fmt::format("must be a port number in [1, 65535], got {}", options_.master_port()));
  require(options_.timeout() > 0.0, "timeout", "must be positive");
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(options_.timeout() * 1000.0));
  const std::string where = fmt::format("{}:{}", options_.master_addr(), options_.master_port());

  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<uint16_t>(options_.master_port());
  store_options.isServer = rank == 0;
  store_options.numWorkers = static_cast<size_t>(N);
  store_options.waitWorkers = false;
  store_options.timeout = timeout;
  try {
    impl_->store = c10::make_intrusive<c10d::TCPStore>(options_.master_addr(), store_options);
  } catch (const std::exception& error) {
    const std::string what = first_line(error.what());
    if (rank == 0 && (what.find("in use") != std::string::npos || what.find("EADDRINUSE") != std::string::npos))
      throw InputError("MASTER_PORT", fmt::format("port {} is already in use on {} (another run?); choose another "
                                                  "MASTER_PORT", options_.master_port(), options_.master_addr()));
    if (rank == 0) throw DistributedError(fmt::format("rank 0 could not open the rendezvous store at {}: {}", where, what));
    throw DistributedError(fmt::format("rank {} could not reach the rendezvous store at {} within {} s (is rank 0 "
                                       "running there?): {}", rank, where, options_.timeout(), what));
  }
  auto& store = *impl_->store;
  try {
    // One process per rank, and everyone agrees on the world size before Gloo's rendezvous (which would hang).
    if (store.add(fmt::format("{}claimed/{}", kPrefix, rank), 1) > 1)
      throw InputError("RANK", fmt::format("another process already joined as rank {}; every process needs its own RANK", rank));
    if (rank == 0) store.set(std::string(kPrefix) + "world_size", string_to_bytes(std::to_string(N)));
    const std::string expected = bytes_to_string(store.get(std::string(kPrefix) + "world_size"));
    if (expected != std::to_string(N))
      throw InputError("WORLD_SIZE", fmt::format("is {} at rank {} but {} at rank 0; start every rank with the same "
                                                 "WORLD_SIZE", N, rank, expected));
  } catch (const c10::Error& error) {
    throw DistributedError(fmt::format("rank {}: the rendezvous at {} failed within {} s: {}", rank, where,
                                       options_.timeout(), first_line(error.what_without_backtrace())));
  }

  auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
  const std::string interface = environment_or("GLOO_SOCKET_IFNAME", "");
  if (!interface.empty()) {
    gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
  } else if (is_loopback(options_.master_addr())) {
    gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  } else {
    gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  gloo_options->threads = 1;
  try {
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("gloo", impl_->store);
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, static_cast<int>(rank), static_cast<int>(N),
                                                               gloo_options);
  } catch (const std::exception& error) {
    throw DistributedError(fmt::format("rank {}: the Gloo process group did not form within {} s (a rank missing?): {}",
                                       rank, options_.timeout(), first_line(error.what())));
  }
}

DataParallelGroup::~DataParallelGroup() {
  // After a failed collective the Gloo group's destructor joins its worker threads, which may wait without end
  // on a peer that hangs (a stopped process keeps its sockets open). The process is about to report the failure
  // and exit, so the group is left to the operating system instead.
  if (impl_ && impl_->failed) impl_->group.release();
}

void DataParallelGroup::fail(const std::string& during, int64_t batch, const std::string& cause) {
  const std::string where = fmt::format("{}:{}", options_.master_addr(), options_.master_port());
  impl_->failed = true;
  // Why peer r is to blame, or "" when it reported failing too (it is a survivor of the same collective).
  auto diagnose = [&](int64_t r, std::chrono::milliseconds report_wait) -> std::string {
    const std::string key = fmt::format("{}progress/{}", kPrefix, r);
    if (!impl_->store->check({key})) return fmt::format("rank {} never reached the first batch", r);
    // "<collectives completed> <batch>" (see all_reduce_sum)
    std::istringstream progress(bytes_to_string(impl_->store->get(key)));
    int64_t completed = 0, its_batch = 0;
    progress >> completed >> its_batch;
    if (completed < collectives_ - 1)
      return fmt::format("rank {} stopped responding (the last batch it reached was {})", r, its_batch);
    try {
      impl_->store->wait({fmt::format("{}failed/{}", kPrefix, r)}, report_wait);
      return "";
    } catch (const c10::Error&) {
      return fmt::format("rank {} stopped responding (during batch {})", r, its_batch);
    }
  };
  std::vector<std::string> culprits;
  std::vector<int64_t> unresolved;  // peers not yet diagnosed
  for (int64_t r = 0; r < world_size(); ++r)
    if (r != rank()) unresolved.push_back(r);
  try {
    impl_->store->setTimeout(std::chrono::milliseconds(2000));
    // Survivors of a failed collective say so: a rank that does not, within a few seconds, is the one that hung
    // (it may have hung inside the collective, after recording that it reached it). Survivors fail together
    // (the same collective, the same timeout), so a short wait suffices.
    impl_->store->set(fmt::format("{}failed/{}", kPrefix, rank()), string_to_bytes(std::to_string(batch)));
    const auto report_wait =
        std::chrono::milliseconds(static_cast<int64_t>(std::min(options_.timeout(), 5.0) * 1000.0));
    while (!unresolved.empty()) {
      const auto why = diagnose(unresolved.front(), report_wait);
      if (!why.empty()) culprits.push_back(why);
      unresolved.erase(unresolved.begin());
    }
  } catch (const std::exception&) {
    if (rank() != 0)
      throw DistributedError(fmt::format("rank {}: lost contact with rank 0, which hosts the rendezvous store at {} "
                                         "(it stopped, or its machine is unreachable), during {} of batch {}: {}",
                                         rank(), where, during, batch, cause));
    // Rank 0 hosts the store, yet its own requests timed out. Seen under load with a peer stopped by SIGSTOP
    // (about 1 run in 5 of the hung-rank test with both cores busy); most likely the peer stopped part-way
    // through a request and the store's server waits for the rest. The peer is among those not yet diagnosed.
    if (!unresolved.empty())
      culprits.push_back(fmt::format("{} stopped responding (the rendezvous store stopped answering, as it does "
                                     "when a rank stops part-way through a request)",
                                     unresolved.size() == 1 ? fmt::format("rank {}", unresolved[0])
                                                            : fmt::format("one of ranks {}", fmt::join(unresolved, ", "))));
  }
  const std::string who = culprits.empty() ? "another rank failed" : fmt::format("{}", fmt::join(culprits, "; "));
  throw DistributedError(fmt::format("rank {}: {} during {} of batch {} ({})", rank(), who, during, batch, cause));
}

void DataParallelGroup::all_reduce_sum(std::vector<torch::Tensor>& tensors, int64_t batch) {
  ++collectives_;
  std::vector<torch::Tensor> buffer{flatten(tensors)};
  try {
    // Recorded before the collective: after a failure the survivors read who got how far.
    impl_->store->set(fmt::format("{}progress/{}", kPrefix, rank()),
                      string_to_bytes(fmt::format("{} {}", collectives_ - 1, batch)));
    auto work = impl_->group->allreduce(buffer);
    if (!work->wait(std::chrono::milliseconds(static_cast<int64_t>(options_.timeout() * 1000.0))))
      fail("the gradient all-reduce", batch, "timed out");
  } catch (const DistributedError&) {
    throw;
  } catch (const std::exception& error) {
    fail("the gradient all-reduce", batch, first_line(error.what()));
  }
  unflatten_into(tensors, buffer[0]);
}

void DataParallelGroup::broadcast(std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> buffer{flatten(tensors)};
  try {
    impl_->group->broadcast(buffer)->wait();
  } catch (const std::exception& error) {
    fail("the parameter broadcast", 0, first_line(error.what()));
  }
  unflatten_into(tensors, buffer[0]);
}

void DataParallelGroup::require_same(const std::string& what, const std::string& value) {
  const std::string mine = std::to_string(std::hash<std::string>{}(value));
  auto& store = *impl_->store;
  std::vector<torch::Tensor> differs{torch::zeros({world_size()}, torch::kFloat64)};
  try {
    if (rank() == 0) store.set(fmt::format("{}same/{}", kPrefix, what), string_to_bytes(mine));
    const std::string reference = bytes_to_string(store.get(fmt::format("{}same/{}", kPrefix, what)));
    if (reference != mine) differs[0][rank()] = 1.0;
  } catch (const c10::Error& error) {
    fail("the configuration check", 0, first_line(error.what_without_backtrace()));
  }
  all_reduce_sum(differs, 0);
  for (int64_t r = 0; r < world_size(); ++r)
    if (differs[0][r].item<double>() > 0.0)
      throw InputError(what, fmt::format("rank {} was started with a different {} from rank 0's; every rank must run "
                                         "the same one", r, what));
}

}  // namespace motornet
