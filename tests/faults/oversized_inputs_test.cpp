// Sizes no machine holds, refused from the configuration before anything is allocated or written.

#include "faults/fault_support.h"

namespace motornet::faults {
namespace {

// Sizes no machine holds are refused from the configuration, naming the key, before anything is allocated or
// written (they used to end in an allocator's stack trace).
TEST(OversizedInputs, RunsTooLargeForTheMachineAreRefusedNamingTheKey) {
  for (const auto& [setting, key] : std::vector<std::pair<std::string, std::string>>{
           {"training.batch_size=100000000", "training.batch_size"},
           {"policy.hidden_size=1000000", "policy.hidden_size"},
           {"training.replicates=1000000", "training.replicates"},
           {"training.validation_batch_size=1000000000", "training.validation_batch_size"},
           {"policy={type: MLP, hidden_sizes: [10000000, 10000000]}", "policy.hidden_sizes"}}) {
    auto dir = fresh_dir("too_large");
    auto run = train(tutorial() + " --out " + dir.string() + " --quiet --set '" + setting + "'");
    EXPECT_EQ(run.status, 2) << setting << ": " << run.output;
    EXPECT_NE(run.output.find(key + ": this run needs at least"), std::string::npos) << setting << ": " << run.output;
    EXPECT_NE(run.output.find("is available; make it smaller"), std::string::npos) << run.output;
    EXPECT_FALSE(fs::exists(dir / "config.yaml")) << setting;
  }
}

}  // namespace
}  // namespace motornet::faults
