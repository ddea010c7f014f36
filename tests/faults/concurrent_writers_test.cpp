// Two processes on one run directory: the second is refused naming the first, which goes on undisturbed.

#include "faults/fault_support.h"

namespace motornet::faults {
namespace {

TEST(ConcurrentWriters, ASecondWriterOfARunDirectoryIsRefusedNamingTheFirst) {
  auto dir = fresh_dir("locked");
  // While a run trains, a --resume of its directory is refused with the trainer's PID, and changes nothing.
  std::string command = fmt::format(
      "sh -c '{0} {1} --out {2} --quiet --set training.n_batches=100000 --set training.batch_size=4 "
      "--set environment.max_ep_duration=0.1 --set training.validation_every=0 & pid=$!; "
      "while [ ! -s {2}/metrics.csv ]; do sleep 0.2; done; "
      "{0} --resume {2} --quiet > {3}/second.txt 2>&1; echo $? > {3}/second_status.txt; "
      "echo $pid > {3}/first_pid.txt; kill -INT $pid; wait $pid'",
      MOTORNET_TRAIN_PATH, tutorial(), dir.string(), dir.parent_path().string());
  std::system(command.c_str());
  const auto second = testing::read_text((dir.parent_path() / "second.txt").string());
  EXPECT_EQ(testing::read_text((dir.parent_path() / "second_status.txt").string()), "2\n") << second;
  std::string pid = testing::read_text((dir.parent_path() / "first_pid.txt").string());
  pid.pop_back();
  EXPECT_NE(second.find(dir.string() + ": is being written by another process (PID " + pid + ")"), std::string::npos)
      << second;
  // The first run went on and stopped cleanly; its directory resumes once it has ended (the lock went with it).
  auto summary = nlohmann::json::parse(testing::read_text((dir / "summary.json").string()));
  EXPECT_EQ(summary["outcome"], "interrupted");
  const int64_t done = summary["batches"].get<int64_t>();
  auto run = train("--resume " + dir.string() + " --quiet --set training.n_batches=" + std::to_string(done + 1));
  EXPECT_EQ(run.status, 0) << run.output;
}

}  // namespace
}  // namespace motornet::faults
