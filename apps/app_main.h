#pragma once
// The shared `main` of the apps: bad input (InputError) prints one line naming the problem and exits with
// status 2; a failed data-parallel group (another rank died or hung, the network) exits with status 4;
// anything else is an internal error (status 1). Apps stay thin: parse arguments, call the library.

#include <exception>
#include <iostream>
#include <string>

#include "motornet/distributed.h"
#include "motornet/error.h"

namespace motornet {

template <class Run>
int run_app(const char* name, Run&& run) {
  try {
    return run();
  } catch (const InputError& error) {
    std::cerr << name << ": error: " << error.what() << "\n";
    return 2;
  } catch (const DistributedError& error) {
    std::cerr << name << ": data-parallel training failed: " << error.what() << "\n";
    return 4;
  } catch (const std::exception& error) {
    std::cerr << name << ": internal error: " << error.what() << "\n";
    return 1;
  }
}

}  // namespace motornet
