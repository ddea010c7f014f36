// motornet-simulate SCENARIO [-o OUT.json]: runs an open-loop scenario (YAML or JSON) and writes every state,
// the objective and its gradients as JSON. Exit status 2 on bad input, with a message naming the problem.

#include <CLI/CLI.hpp>

#include "app_main.h"
#include <fmt/format.h>

#include <iostream>

#include "motornet/io/atomic_file.h"
#include "motornet/motornet.h"


int main(int argc, char** argv) {
  CLI::App app{"Simulate a MotorNet effector open loop from a scenario file"};
  std::string scenario_file, output_file;
  app.add_option("scenario", scenario_file, "scenario file (YAML or JSON)")->required();
  app.add_option("-o,--output", output_file, "where to write the JSON result (default: standard output)");
  if (auto status = motornet::parse_command_line(app, argc, argv)) return *status;

  return motornet::run_app("motornet-simulate", [&] {
    auto scenario = motornet::scenario_from_config(motornet::ConfigNode::load_file(scenario_file));
    auto result = motornet::simulate(scenario);
    std::string text = result.dump() + "\n";
    if (output_file.empty()) {
      std::cout << text;
    } else {
      motornet::write_text_atomically(output_file, text);  // a failed run leaves no half-written output
      std::cerr << fmt::format("{}: {} steps written to {}\n", scenario.name, scenario.actions.size(0), output_file);
    }
    return 0;
  });
}
