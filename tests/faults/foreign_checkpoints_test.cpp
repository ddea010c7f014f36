// Resuming only what belongs to the run: checkpoints of other runs and hand-edited configurations.

#include <torch/script.h>

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

// A checkpoint damaged on disk (bytes flipped inside a tensor, where LibTorch's reader notices nothing) is refused
// by its recorded SHA-256, by a resume and by motornet-eval alike, and the run directory is left as it was.
TEST(ForeignCheckpoints, ADamagedCheckpointIsRefusedByItsDigest) {
  auto dir = fresh_dir("damaged");
  ASSERT_EQ(train(tutorial() + " --out " + dir.string() + kQuick).status, 0);
  const auto metrics = testing::read_text((dir / "metrics.csv").string());
  std::string bytes = testing::read_text((dir / "checkpoint.pt").string());
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 8; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x55);
  std::ofstream(dir / "checkpoint.pt", std::ios::binary) << bytes;
  auto run = train("--resume " + dir.string() + " --set training.n_batches=8 --quiet");
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("checkpoint.pt: is damaged: its contents no longer match the SHA-256"), std::string::npos)
      << run.output;
  EXPECT_EQ(testing::read_text((dir / "metrics.csv").string()), metrics);
  // An intact checkpoint still loads where LibTorch's own readers load it (TorchScript's loader: warm starts).
  auto intact = fresh_dir("intact");
  ASSERT_EQ(train(tutorial() + " --out " + intact.string() + kQuick).status, 0);
  EXPECT_NO_THROW(torch::jit::load((intact / "checkpoint.pt").string()));
  EXPECT_EQ(read_checkpoint_batch(intact), 4);
}

}  // namespace
}  // namespace motornet::faults
