// motornet-simulate end to end: a golden file and every shipped config run through the real binary; bad
// input exits with status 2 and a message naming the problem, and leaves no output file behind.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

namespace fs = std::filesystem;

testing::CommandResult simulate(const std::string& arguments) {
  return testing::run_command(std::string(MOTORNET_SIMULATE_PATH) + " " + arguments);
}

fs::path scratch(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("motornet_simulate_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir / name;
}

TEST(SimulateApp, WritesTheGoldenExpectedBlock) {
  auto out = scratch("arm26_rigid.json");
  auto run = simulate(testing::data_path("golden/arm26_rigid.json") + " -o " + out.string());
  ASSERT_EQ(run.status, 0) << run.output;
  auto result = nlohmann::json::parse(testing::read_text(out.string()));
  auto golden = nlohmann::json::parse(testing::read_text(testing::data_path("golden/arm26_rigid.json")))["expected"];
  for (const char* key : {"joint", "cartesian", "geometry", "muscle", "grad_actions", "grad_initial_joint"})
    EXPECT_WITHIN(testing::json_to_tensor(result[key]), testing::json_to_tensor(golden[key]), 1e-3, 1e-3, key);
  EXPECT_EQ(result["muscle_state_names"], golden["muscle_state_names"]);
  EXPECT_NEAR(result["objective"].get<double>(), golden["objective"].get<double>(), 1e-3 * (1 + 56.0));
}

TEST(SimulateApp, RunsEveryShippedConfig) {
  for (const auto& entry : fs::directory_iterator(std::string(MOTORNET_CONFIGS_DIR) + "/simulate")) {
    if (entry.path().extension() != ".yaml") continue;
    auto out = scratch(entry.path().stem().string() + ".json");
    auto run = simulate(entry.path().string() + " -o " + out.string());
    ASSERT_EQ(run.status, 0) << entry.path() << "\n" << run.output;
    auto result = nlohmann::json::parse(testing::read_text(out.string()));
    if (result.contains("observation")) {  // an environment scenario
      EXPECT_GT(result["observation"].size(), 1u) << entry.path();
      EXPECT_TRUE(result["terminated_at_last_step"].is_boolean()) << entry.path();
    } else {
      EXPECT_GT(result["joint"].size(), 1u) << entry.path();
      EXPECT_TRUE(std::isfinite(result["objective"].get<double>())) << entry.path();
    }
  }
}

TEST(SimulateApp, BadInputExitsWithStatus2AndKeepsNoPartialOutput) {
  auto bad = scratch("bad.yaml");
  {
    std::ofstream file(bad);
    file << "effector: {preset: RigidTendonArm26, timestep: -1}\ninitial_joint_state: [0.8, 1.2, 0, 0]\n"
            "actions: [[0, 0, 0, 0, 0, 0]]\nobjective: {fingertip_weights: [1, 1]}\n";
  }
  auto out = scratch("never.json");
  auto run = simulate(bad.string() + " -o " + out.string());
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("effector.timestep: must be positive"), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(out));

  run = simulate("/nonexistent/file.yaml");
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("cannot open"), std::string::npos) << run.output;

  auto unwritable = simulate(testing::data_path("golden/pm24_relu.json") + " -o /nonexistent/dir/out.json");
  EXPECT_EQ(unwritable.status, 2) << unwritable.output;
  EXPECT_NE(unwritable.output.find("cannot open the output file"), std::string::npos) << unwritable.output;
}

}  // namespace
}  // namespace motornet
