#pragma once
// A request to stop long work at the next safe point (a trainer finishes its batch and writes a checkpoint).
// Copies share one flag, so whoever holds a copy (another thread, an app's signal handler through `flag()`) can
// ask every holder to stop. There is no process-wide flag: each run has its own token.

#include <atomic>
#include <memory>

namespace motornet {

class StopToken {
 public:
  StopToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}

  void request() const { flag_->store(true); }
  bool requested() const { return flag_->load(); }
  // For a signal handler: storing to a lock-free atomic is async-signal-safe. The token must outlive the handler.
  std::atomic<bool>* flag() const { return flag_.get(); }

 private:
  std::shared_ptr<std::atomic<bool>> flag_;
};

}  // namespace motornet
