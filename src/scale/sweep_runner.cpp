#include "motornet/scale/sweep_runner.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include "motornet/core/config.h"
#include "motornet/core/error.h"
#include "motornet/core/sha256.h"
#include "motornet/io/atomic_file.h"
#include "motornet/scale/launcher.h"

namespace motornet {

namespace fs = std::filesystem;

namespace {

// sweep.yaml: what the sweep was asked to do (the configuration file and its SHA-256, the --set overrides and
// the grid), for the record and so that a rerun can tell whether it continues the same sweep.
YAML::Node sweep_record(const SweepRunOptions& options) {
  YAML::Node record;
  record["config"] = fs::absolute(options.config_file).string();
  record["config_sha256"] = sha256_of_file(options.config_file);
  for (const auto& assignment : options.overrides) record["set"].push_back(assignment);
  for (const auto& axis : options.axes) record["grid"][axis.key] = axis.values;
  return record;
}

std::string yaml_text(const YAML::Node& node) {
  YAML::Emitter emitter;
  emitter << node;
  return emitter.c_str();
}

// A rerun continues its sweep: finished runs are skipped, interrupted ones resume. That is only right when the
// sweep is the same; another configuration (or an edited file), other overrides or another grid would skip runs
// that no longer match and overwrite sweep.yaml, so they are refused before anything is touched.
void refuse_another_sweep(const YAML::Node& record, const fs::path& directory) {
  const fs::path file = directory / "sweep.yaml";
  if (!fs::exists(file)) return;
  YAML::Node previous;
  try {
    previous = YAML::LoadFile(file.string());
  } catch (const YAML::Exception& error) {
    throw InputError(file.string(), "is not readable YAML (" + error.msg + "); give the sweep another directory");
  }
  // Each recorded entry, with how the message names it.
  const std::vector<std::pair<const char*, const char*>> entries = {
      {"config", "config"}, {"config_sha256", "configuration contents"}, {"set", "--set overrides"}, {"grid", "grid"}};
  std::vector<std::string> changed;
  for (const auto& [key, description] : entries) {
    const bool had = previous.IsMap() && previous[key], has = static_cast<bool>(record[key]);
    if (had != has || (has && yaml_text(previous[key]) != yaml_text(record[key]))) changed.push_back(description);
  }
  if (!changed.empty())
    throw InputError(directory.string(),
                     fmt::format("holds a sweep with another {} (see its sweep.yaml): a rerun continues a sweep only "
                                 "with the same arguments; give this one another directory",
                                 fmt::join(changed, ", ")));
}

// The command line of combination i: a resume when it left a checkpoint, otherwise a fresh run.
std::vector<std::string> run_arguments(const SweepRunOptions& options, const SweepPoint& point, const fs::path& directory) {
  std::vector<std::string> arguments;
  if (fs::exists(directory / "checkpoint.pt")) {
    arguments = {"--resume", directory.string()};
  } else {
    fs::remove_all(directory);  // a run that failed before writing a checkpoint starts again
    arguments = {options.config_file, "--out", directory.string()};
    for (const auto& assignment : options.overrides) arguments.insert(arguments.end(), {"--set", assignment});
    for (const auto& [key, value] : point) arguments.insert(arguments.end(), {"--set", key + "=" + value});
  }
  arguments.push_back("--quiet");
  return arguments;
}

}  // namespace

SweepRun run_sweep(const SweepRunOptions& options) {
  require(options.jobs >= 1, "--jobs", fmt::format("must be at least 1, got {}", options.jobs));
  require(options.threads >= 1, "--threads", fmt::format("must be at least 1, got {}", options.threads));
  require(fs::exists(options.trainer_program), options.trainer_program, "the motornet-train program is not there");
  YAML::Node base = YAML::Clone(ConfigNode::load_file(options.config_file).yaml());
  for (const auto& assignment : options.overrides) apply_override(base, assignment);
  const auto points = sweep_points(options.axes);
  // Check every combination now: a typo in the last value must not surface hours into the sweep.
  if (options.check_configuration)
    for (size_t i = 0; i < points.size(); ++i) {
      try {
        options.check_configuration(sweep_configuration(base, points[i]));
      } catch (const InputError& error) {
        throw InputError(sweep_run_name(i, points[i]), error.what());
      }
    }

  const YAML::Node record = sweep_record(options);
  refuse_another_sweep(record, options.directory);
  std::error_code error;
  fs::create_directories(options.directory, error);
  require(!error && fs::is_directory(options.directory), options.directory, "cannot create the sweep directory");
  write_text_atomically((fs::path(options.directory) / "sweep.yaml").string(), yaml_text(record) + "\n");

  SweepRun sweep;
  sweep.results.resize(points.size());
  std::map<pid_t, size_t> running;
  size_t next = 0, finished = 0;
  std::cerr << fmt::format("motornet-sweep: {} runs of {} in {}, {} at a time\n", points.size(), options.config_file,
                           options.directory, options.jobs);
  auto stopped = [&] { return options.stop.requested(); };
  while ((next < points.size() && !stopped()) || !running.empty()) {
    while (next < points.size() && !stopped() && static_cast<int>(running.size()) < options.jobs) {
      const size_t i = next++;
      const std::string name = sweep_run_name(i, points[i]);
      const fs::path directory = fs::path(options.directory) / name;
      auto previous = read_sweep_result(directory.string());
      if (previous.outcome == "completed") {
        sweep.results[i] = previous;
        sweep.results[i].point = points[i];
        std::cerr << fmt::format("[{}/{}] {}: done before, skipped\n", ++finished, points.size(), name);
        continue;
      }
      const pid_t pid = spawn_process(options.trainer_program, run_arguments(options, points[i], directory),
                                      {{"OMP_NUM_THREADS", std::to_string(options.threads)}},
                                      (fs::path(options.directory) / (name + ".log")).string());
      running[pid] = i;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0 && running.count(pid)) {
      const size_t i = running[pid];
      running.erase(pid);
      auto& result = sweep.results[i];
      result = read_sweep_result((fs::path(options.directory) / sweep_run_name(i, points[i])).string());
      result.point = points[i];
      result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (result.exit_status != 0 && result.outcome == "completed") result.outcome = "failed";
      std::cerr << fmt::format("[{}/{}] {}: {}{}\n", ++finished, points.size(), result.name, result.outcome,
                               result.final_loss ? fmt::format(", final loss {:.4f}", *result.final_loss) : "");
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (size_t i = next; i < points.size(); ++i) {
    sweep.results[i].name = sweep_run_name(i, points[i]);
    sweep.results[i].point = points[i];
    sweep.results[i].outcome = "not started";
  }
  sweep.stopped = stopped();
  write_sweep_summary(options.directory, options.axes, sweep.results);
  return sweep;
}

}  // namespace motornet
