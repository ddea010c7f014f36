// A full disk while a run writes its checkpoint, a TorchScript snapshot or a figure: exit 2 naming the file,
// no temporary file left, the previous file kept, nothing aborted.

#include "faults/fault_support.h"

namespace motornet::faults {
namespace {

// A full disk (here: a file-size limit, whose signal is ignored so that writes fail with EFBIG as on a full
// disk) while a checkpoint is written: a clean exit 2 naming the file, no temporary file left, nothing aborted.
TEST(DiskFull, AFailedCheckpointWriteIsACleanErrorThatLeavesNoTemporaryFile) {
  auto dir = fresh_dir("disk_full");
  fs::create_directories(dir);
  const auto run = testing::run_command(fmt::format("sh -c \"trap '' XFSZ; ulimit -f 40; {} {} --out {}{}\"",
                                                    MOTORNET_TRAIN_PATH, tutorial(), dir.string(), kQuick));
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("checkpoint.pt: could not write the file"), std::string::npos) << run.output;
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
  EXPECT_FALSE(fs::exists(dir / "checkpoint.pt"));
}

// The same for a TorchScript file (a snapshot, written before the first checkpoint here): LibTorch's archive
// writer would abort in its destructor; the policy is serialised in memory and the write checked instead.
TEST(DiskFull, AFailedTorchScriptWriteIsACleanErrorThatLeavesNoTemporaryFile) {
  auto dir = fresh_dir("disk_full_snapshot");
  fs::create_directories(dir);
  const auto run = testing::run_command(
      fmt::format("sh -c \"trap '' XFSZ; ulimit -f 16; {} {} --out {}{} --set training.snapshot_every=1\"",
                  MOTORNET_TRAIN_PATH, tutorial(), dir.string(), kQuick));
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("batch_000001.pt: could not write the file"), std::string::npos) << run.output;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
  EXPECT_FALSE(fs::exists(dir / "snapshots" / "batch_000001.pt"));
}

// Figures too: a figure that cannot be written is exit 2 naming it, with the previous figure kept whole.
TEST(DiskFull, AFailedFigureWriteKeepsThePreviousFigure) {
  auto dir = fresh_dir("disk_full_figure");
  ASSERT_EQ(train(tutorial() + " --out " + dir.string() + kQuick).status, 0);
  const auto before = testing::read_text((dir / "loss.png").string());
  ASSERT_GT(before.size(), 2048u);
  const auto run = testing::run_command(
      fmt::format("sh -c \"trap '' XFSZ; ulimit -f 2; {} {}\"", MOTORNET_PLOT_PATH, dir.string()));
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("loss.png: cannot write the figure"), std::string::npos) << run.output;
  EXPECT_EQ(testing::read_text((dir / "loss.png").string()), before);
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
}

// rollout.h5 is built in memory and written like every other file: HDF5 writing to a full disk itself would report
// the error and then crash at exit (a segmentation fault closing the file it could not flush).
TEST(DiskFull, AFailedRolloutWriteKeepsThePreviousFile) {
  auto dir = fresh_dir("disk_full_rollout");
  ASSERT_EQ(train(tutorial() + " --out " + dir.string() + kQuick).status, 0);
  const auto before = testing::read_text((dir / "eval" / "rollout.h5").string());
  ASSERT_GT(before.size(), 40u * 1024u);
  const auto run = testing::run_command(
      fmt::format("sh -c \"trap '' XFSZ; ulimit -f 40; {} {}\"", MOTORNET_EVAL_PATH, dir.string()));
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("rollout.h5: could not write the file"), std::string::npos) << run.output;
  EXPECT_EQ(testing::read_text((dir / "eval" / "rollout.h5").string()), before);
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
}

}  // namespace
}  // namespace motornet::faults
