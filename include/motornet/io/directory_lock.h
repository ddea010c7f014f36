#pragma once
// An exclusive lock on a run directory for as long as a process writes it, so that two processes never write
// one run (a --resume started while the run still trains would interleave metrics.csv and checkpoints). The lock
// is an flock on DIRECTORY/.lock, which holds the writer's PID: the kernel releases it when the process ends
// however it ends (kill -9 included), so a crashed run never leaves its directory locked.

#include <string>

namespace motornet {

class DirectoryLock {
 public:
  // Takes the lock (creating the directory's .lock file); an InputError naming the directory and the PID of the
  // process that holds it when another does.
  explicit DirectoryLock(const std::string& directory);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int descriptor_ = -1;
};

}  // namespace motornet
