#include "motornet/scale/launcher.h"

#include <fmt/format.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <thread>

#include "motornet/core/error.h"
#include "motornet/core/threads.h"

namespace motornet {

namespace {

std::string describe(int status) {
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return fmt::format("exited with status {}", WEXITSTATUS(status));
}

int exit_code(int status) { return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status); }

// s the other workers get to stop after one has reported a failed group (they have seen it too, or are hung).
constexpr double kGraceAfterGroupFailure = 5.0;

volatile sig_atomic_t forwarded_signal = 0;
void remember_signal(int signal) { forwarded_signal = signal; }

}  // namespace

int free_local_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  require(fd >= 0, "MASTER_PORT", "cannot open a socket to find a free port");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  close(fd);
  require(ok, "MASTER_PORT", "cannot find a free local port; set MASTER_PORT");
  return ntohs(address.sin_port);
}

int spawn_process(const std::string& program, const std::vector<std::string>& arguments,
                  const std::vector<std::pair<std::string, std::string>>& environment, const std::string& log_file) {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  require(pid >= 0, program.c_str(), fmt::format("cannot start a process: {}", std::strerror(errno)));
  if (pid == 0) {
    // The child dies with this process: if the launcher (or sweep) is killed, even by SIGKILL, the kernel sends
    // the child SIGTERM, on which a training checkpoints and stops, instead of leaving it to train on as an
    // orphan. The setting survives execv; a parent that died before it was made is caught by getppid().
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) _exit(143);
    if (!log_file.empty()) {
      const int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd < 0) {
        std::fprintf(stderr, "motornet: cannot write %s: %s\n", log_file.c_str(), std::strerror(errno));
        _exit(127);
      }
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    for (const auto& [name, value] : environment) setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    std::fprintf(stderr, "motornet: cannot start %s: %s\n", program.c_str(), std::strerror(errno));
    _exit(127);
  }
  return pid;
}

int launch_workers(const LaunchOptions& options) {
  require(options.nproc >= 1, "--nproc", fmt::format("must be at least 1, got {}", options.nproc));
  const char* given_port = std::getenv("MASTER_PORT");
  const std::string port = given_port && *given_port ? given_port : std::to_string(free_local_port());
  const char* given_address = std::getenv("MASTER_ADDR");
  const std::string address = given_address && *given_address ? given_address : "127.0.0.1";

  // Each worker gets its share of the cores (as torchrun does), unless the caller chose: N workers with all
  // cores each would fight over them.
  std::vector<std::pair<std::string, std::string>> shared;
  if (!std::getenv("OMP_NUM_THREADS")) {
    const int cores = available_cores();
    shared.push_back({"OMP_NUM_THREADS", std::to_string(std::max(1, cores / options.nproc))});
  }
  // SIGINT and SIGTERM to the launcher are passed on to every worker, which checkpoints and stops (a Ctrl-C
  // from the terminal reaches the workers too; a second SIGINT only sets their stop flag again). The handler is
  // in place before the first worker starts, so no signal finds the launcher unprepared; execv gives each
  // worker its own default handling back.
  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  std::map<pid_t, int> ranks;
  for (int rank = 0; rank < options.nproc; ++rank) {
    auto environment = shared;
    environment.insert(environment.end(), options.environment.begin(), options.environment.end());
    environment.insert(environment.end(), {{"RANK", std::to_string(rank)},
                                           {"LOCAL_RANK", std::to_string(rank)},
                                           {"WORLD_SIZE", std::to_string(options.nproc)},
                                           {"LOCAL_WORLD_SIZE", std::to_string(options.nproc)},
                                           {"MASTER_ADDR", address},
                                           {"MASTER_PORT", port}});
    ranks[spawn_process(options.program, options.arguments, environment)] = rank;
  }

  int result = 0;
  bool failed = false, stopping = false;
  auto deadline = std::chrono::steady_clock::time_point::max();
  while (!ranks.empty()) {
    if (forwarded_signal) {
      for (const auto& [pid, rank] : ranks) kill(pid, forwarded_signal);
      forwarded_signal = 0;
      stopping = true;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0 && ranks.count(pid)) {
      const int rank = ranks[pid];
      ranks.erase(pid);
      if (status != 0 && !failed) {
        failed = true;
        result = exit_code(status);
        // A worker that reports a failed group (status 4) has already waited out the collective timeout for the
        // lost rank: the others have had their time, and one that has not stopped by now is hung. Any other
        // failure leaves the others their whole timeout to notice it.
        const double grace = result == 4 ? std::min(options.grace, kGraceAfterGroupFailure) : options.grace;
        if (!stopping)  // a worker stopped by a passed-on signal (130, 143) is no failure to report
          std::cerr << fmt::format("motornet: worker rank {} (pid {}) {}; waiting up to {:.0f} s for the other {} "
                                   "worker(s) to stop\n", rank, pid, describe(status), grace, ranks.size());
        deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(grace * 1000));
      } else if (status != 0) {
        std::cerr << fmt::format("motornet: worker rank {} {}\n", rank, describe(status));
      }
      continue;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      for (const auto& [other, rank] : ranks) {
        std::cerr << fmt::format("motornet: stopping worker rank {} (pid {})\n", rank, other);
        kill(other, SIGKILL);
      }
      deadline = std::chrono::steady_clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  return result;
}

}  // namespace motornet
