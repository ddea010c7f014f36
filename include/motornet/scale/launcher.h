#pragma once
// Starts local data-parallel workers: `nproc` copies of a program, each with RANK, LOCAL_RANK, WORLD_SIZE,
// MASTER_ADDR and MASTER_PORT set as torchrun would (MASTER_PORT: the caller's, else a free port; and
// OMP_NUM_THREADS, unless set, to the cores divided by nproc, so the workers share the cores), then waits
// for them. When one fails, the launcher says which rank and how, gives the others `grace` seconds to stop on
// their own (they notice the lost rank within their collective timeout) and then stops them. SIGINT and SIGTERM
// to the launcher are passed on to every worker (each checkpoints and stops), and the workers die with the
// launcher: killed, even by SIGKILL, it leaves no worker training on (each gets SIGTERM from the kernel).

#include <string>
#include <vector>

namespace motornet {

struct LaunchOptions {
  int nproc = 1;
  double grace = 330.0;  // s the surviving workers get to stop on their own after a failure
  std::string program;   // path of the executable to start
  std::vector<std::string> arguments;  // its arguments (without the program name)
  std::vector<std::pair<std::string, std::string>> environment;  // extra variables for every worker
};

// Returns the exit status for the launcher: 0 if every worker succeeded, else the first failing worker's
// status (128 + signal for a killed one).
int launch_workers(const LaunchOptions& options);

// A TCP port on 127.0.0.1 that nothing listens on now.
int free_local_port();

// Starts `program` with `arguments` and extra environment variables; its output goes to `log_file` (appended)
// when given, else to this process's. The process gets SIGTERM when this one dies. Returns its pid.
int spawn_process(const std::string& program, const std::vector<std::string>& arguments,
                  const std::vector<std::pair<std::string, std::string>>& environment, const std::string& log_file = "");

}  // namespace motornet
