// Resuming only what belongs to the run: checkpoints of other runs and hand-edited configurations.

#include "faults/fault_support.h"

namespace motornet::faults {
namespace {

// A checkpoint of another run (another seed), or a config.yaml edited by hand, is refused: the checkpoint records
// the configuration it was written under; nothing in the run directory changes.
TEST(ForeignCheckpoints, ACheckpointOfAnotherRunOrAnEditedConfigurationIsRefused) {
  auto dir = fresh_dir("own");
  ASSERT_EQ(train(tutorial() + " --out " + dir.string() + kQuick).status, 0);
  const auto before = testing::read_text((dir / "metrics.csv").string());
  auto other = fresh_dir("other_seed");
  ASSERT_EQ(train(tutorial() + " --out " + other.string() + kQuick + " --set seed=7").status, 0);
  fs::copy_file(dir / "checkpoint.pt", other / "checkpoint.pt", fs::copy_options::overwrite_existing);
  auto run = train("--resume " + other.string() + " --set training.n_batches=8 --quiet");
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("checkpoint.pt: was written under another configuration"), std::string::npos) << run.output;
  std::string edited = testing::read_text((dir / "config.yaml").string());
  edited.replace(edited.find("lr: 1.0e-3"), 10, "lr: 5.0e-4");
  std::ofstream(dir / "config.yaml") << edited;
  run = train("--resume " + dir.string() + " --set training.n_batches=8 --quiet");
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("or config.yaml was edited"), std::string::npos) << run.output;
  EXPECT_EQ(testing::read_text((dir / "metrics.csv").string()), before);
}

}  // namespace
}  // namespace motornet::faults
