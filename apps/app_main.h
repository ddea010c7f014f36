#pragma once
// The shared `main` of the apps: bad input (InputError) prints one line naming the problem and exits with
// status 2; a failed data-parallel group (another rank died or hung, the network) exits with status 4;
// anything else is an internal error (status 1). Apps stay thin: parse arguments, call the library.

#include <CLI/CLI.hpp>
#include <cstdlib>

#include <exception>
#include <iostream>
#include <optional>
#include <string>

#include "motornet/scale/distributed.h"
#include "motornet/core/error.h"
#include "motornet/core/tensor_memory.h"
#include "motornet/core/threads.h"

namespace motornet {

// Parses the command line; an exit status when the app should stop now: 0 after --help, 2 for a bad command line
// (bad input like any other).
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }
  return std::nullopt;
}

template <class Run>
int run_app(const char* name, Run&& run) {
  try {
    // OMP_NUM_THREADS or every available core for LibTorch; BLAS runs on the calling thread.
    set_num_threads(default_num_threads());
    // A batch's tensors come back to the thread that uses them (MOTORNET_TENSOR_CACHE_MB limits it).
    use_thread_cached_tensor_memory(tensor_memory_options_from_environment());
    return run();
  } catch (const InputError& error) {
    std::cerr << name << ": error: " << error.what() << "\n";
    return 2;
  } catch (const DistributedError& error) {
    std::cerr << name << ": data-parallel training failed: " << error.what() << std::endl;
    // Straight out: the process group's threads may still wait on the rank that failed, and running the static
    // destructors would wait with them. Every file the run writes is complete (written atomically) by now.
    std::cout.flush();
    std::_Exit(4);
  } catch (const std::exception& error) {
    std::cerr << name << ": internal error: " << error.what() << "\n";
    return 1;
  }
}

}  // namespace motornet
