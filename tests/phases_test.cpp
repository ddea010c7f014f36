// Lab experiments in one run: training phases, warm starts (init_from) and snapshots, through run_training as
// motornet-train runs them; and the SHA-256 that records where a warm start came from.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/script.h>

#include <filesystem>
#include <fstream>

#include "motornet/core/sha256.h"
#include "motornet/motornet.h"
#include "motornet/train/phases.h"
#include "motornet/train/training_run.h"
#include "motornet/train/warm_start.h"
#include "test_support.h"

namespace motornet {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("motornet_phases_test_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  return dir;
}

// A base experiment (the point mass, 20-step episodes) and the settings of a curl-field phase.
const std::string kBase = R"(
seed: 5
effector: {preset: ReluPointMass24}
environment: {max_ep_duration: 0.2, action_noise: 0.01, task: {type: RandomTargetReach}}
policy: {type: GRU, hidden_size: 8, hidden_noise: 0.01}
losses: [{type: position_l1}, {type: muscle_activation, weight: 0.01}]
optimizer: {type: adam, lr: 0.01}
training: {batch_size: 4, validation_every: 5, validation_batch_size: 8, checkpoint_every: 3, log_every: 1}
)";
const std::string kCurlSettings =
    "{environment.task.fields: [{type: curl, strength: 20}], optimizer.lr: 0.005, losses: [{type: position_l1}]}";

std::string two_phases(bool reset_optimizer) {
  return kBase + "phases:\n  - {name: baseline, n_batches: 6}\n  - {name: curl, n_batches: 7, reset_optimizer: " +
         (reset_optimizer ? "true" : "false") + ", set: " + kCurlSettings + "}\n";
}

fs::path write_config(const fs::path& directory, const std::string& name, const std::string& yaml) {
  fs::create_directories(directory);
  const auto file = directory / name;
  std::ofstream(file) << yaml;
  return file;
}

TrainingRunResult train(const fs::path& config, const fs::path& out, std::vector<std::string> overrides = {},
                        const std::string& init_from = "") {
  return run_training(TrainingRunOptions()
                          .config_file(config.string())
                          .run_directory(out.string())
                          .overrides(std::move(overrides))
                          .init_from(init_from)
                          .quiet(true));
}

// The rows of metrics.csv with the columns that training determines (loss, terms, lr, gradient norm); batch
// numbers, time, validation and phase are left out (they differ between a phase and a run of its own).
std::vector<std::string> training_columns(const fs::path& metrics_csv) {
  std::stringstream in(testing::read_text(metrics_csv.string()));
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  {
    std::stringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) header.push_back(cell);
  }
  std::vector<std::string> rows;
  while (std::getline(in, line)) {
    std::stringstream cells(line);
    std::string row;
    size_t column = 0;
    for (std::string cell; std::getline(cells, cell, ','); ++column) {
      const auto& name = header.at(column);
      if (name == "batch" || name == "time_s" || name == "validation_loss" || name == "phase") continue;
      if (name == "loss_muscle_activation") continue;  // absent from the curl phase
      row += name + "=" + cell + " ";
    }
    rows.push_back(row);
  }
  return rows;
}

std::vector<torch::Tensor> policy_weights(const fs::path& file) {
  auto module = torch::jit::load(file.string());
  std::vector<torch::Tensor> weights;
  for (const auto& parameter : module.named_parameters(false)) weights.push_back(parameter.value);
  return weights;
}

void expect_same_weights(const fs::path& a, const fs::path& b) {
  auto wa = policy_weights(a), wb = policy_weights(b);
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(torch::equal(wa[i], wb[i])) << a << " vs " << b << ", parameter " << i;
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const InputError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(Sha256, KnownDigests) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Two blocks: the padding no longer fits after the message.
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Phases, ATwoPhaseRunEqualsARunThenAWarmStartedRun) {
  const auto dir = fresh_dir("equivalence");
  const auto phased = train(write_config(dir, "phased.yaml", two_phases(/*reset_optimizer=*/true)), dir / "phased");
  ASSERT_EQ(phased.summary.outcome, TrainingOutcome::kCompleted);
  EXPECT_EQ(phased.summary.batches_done, 13);

  // The same two stages as two runs: the baseline alone, then the curl settings warm-started from it.
  const auto base = write_config(dir, "base.yaml", kBase);
  train(base, dir / "first", {"training.n_batches=6"});
  YAML::Node curl = YAML::Load(kBase);
  for (const auto& entry : YAML::Load(kCurlSettings)) set_config_value(curl, entry.first.as<std::string>(), entry.second);
  curl["training"]["n_batches"] = 7;
  YAML::Emitter emitter;
  emitter << curl;
  const auto second = train(write_config(dir, "curl.yaml", emitter.c_str()), dir / "second", {}, (dir / "first").string());
  ASSERT_EQ(second.summary.outcome, TrainingOutcome::kCompleted);

  auto phased_rows = training_columns(dir / "phased" / "metrics.csv");
  auto first_rows = training_columns(dir / "first" / "metrics.csv");
  auto second_rows = training_columns(dir / "second" / "metrics.csv");
  ASSERT_EQ(phased_rows.size(), 13u);
  ASSERT_EQ(first_rows.size() + second_rows.size(), 13u);
  for (size_t i = 0; i < 13; ++i)
    EXPECT_EQ(phased_rows[i], i < 6 ? first_rows[i] : second_rows[i - 6]) << "batch " << i + 1;
  expect_same_weights(dir / "phased" / "policy.pt", dir / "second" / "policy.pt");

  // The phase column, the second phase's loss columns (muscle_activation empty) and the per-phase summary.
  const auto metrics = testing::read_text((dir / "phased" / "metrics.csv").string());
  EXPECT_NE(metrics.find(",phase\n"), std::string::npos);
  EXPECT_NE(metrics.find(",baseline\n7,"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find(",curl\n"), std::string::npos);
  const auto summary = nlohmann::json::parse(testing::read_text((dir / "phased" / "summary.json").string()));
  ASSERT_EQ(summary.at("phases").size(), 2u);
  EXPECT_EQ(summary["phases"][0]["name"], "baseline");
  EXPECT_EQ(summary["phases"][0]["batches"], 6);
  EXPECT_EQ(summary["phases"][1]["name"], "curl");
  EXPECT_EQ(summary["phases"][1]["first_batch"], 7);
  EXPECT_EQ(summary["phases"][1]["last_batch"], 13);
  EXPECT_TRUE(summary["phases"][0]["last_validation_loss"].is_number());  // validated at the phase's end
  EXPECT_TRUE(summary["phases"][1]["last_validation_loss"].is_number());

  // The warm-started run records its source: the source's configuration and that file's SHA-256.
  const auto second_summary = nlohmann::json::parse(testing::read_text((dir / "second" / "summary.json").string()));
  ASSERT_EQ(second_summary.at("init_from").size(), 1u);
  const auto source_config = (dir / "first" / "config.yaml").string();
  EXPECT_EQ(second_summary["init_from"][0]["config_sha256"], sha256_of_file(source_config));
  const auto recorded = YAML::LoadFile((dir / "second" / "config.yaml").string());
  EXPECT_EQ(recorded["provenance"][0]["config_sha256"].as<std::string>(), sha256_of_file(source_config));
  EXPECT_EQ(recorded["init_from"].as<std::string>(), (dir / "first").string());
}

TEST(Phases, TheOptimizerCarriesOverUnlessReset) {
  const auto dir = fresh_dir("carry");
  train(write_config(dir, "carried.yaml", two_phases(false)), dir / "carried");
  train(write_config(dir, "reset.yaml", two_phases(true)), dir / "reset");
  const auto carried = training_columns(dir / "carried" / "metrics.csv");
  const auto reset = training_columns(dir / "reset" / "metrics.csv");
  ASSERT_EQ(carried.size(), 13u);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(carried[i], reset[i]) << "batch " << i + 1;
  EXPECT_EQ(carried[6], reset[6]);  // the first curl batch's loss comes before its optimizer step
  EXPECT_NE(carried[7], reset[7]);  // Adam's moments from the baseline changed that step
}

TEST(Phases, ResumeMidPhaseEqualsAnUninterruptedRun) {
  const auto dir = fresh_dir("resume");
  const auto config = write_config(dir, "phased.yaml", two_phases(false));
  train(config, dir / "straight");
  // Stopped in the middle of the curl phase (training.n_batches ends the last phase early), then extended.
  const auto stopped = train(config, dir / "split", {"training.n_batches=9"});
  EXPECT_EQ(stopped.summary.batches_done, 9);
  const auto resumed = run_training(TrainingRunOptions()
                                        .resume_directory((dir / "split").string())
                                        .overrides({"training.n_batches=13"})
                                        .quiet(true));
  EXPECT_EQ(resumed.summary.batches_done, 13);
  EXPECT_EQ(training_columns(dir / "straight" / "metrics.csv"), training_columns(dir / "split" / "metrics.csv"));
  expect_same_weights(dir / "straight" / "policy.pt", dir / "split" / "policy.pt");
  // The resumed session's recent mean covers the whole curl phase, as the straight run's does.
  const auto a = nlohmann::json::parse(testing::read_text((dir / "straight" / "summary.json").string()));
  const auto b = nlohmann::json::parse(testing::read_text((dir / "split" / "summary.json").string()));
  EXPECT_NEAR(a["phases"][1]["mean_loss_last_100_batches"].get<double>(),
              b["phases"][1]["mean_loss_last_100_batches"].get<double>(), 1e-6);
  EXPECT_EQ(b["phases"][1]["batches"], 7);
}

TEST(Phases, SnapshotsKeepThePolicyAndLeaveTheCheckpointAlone) {
  const auto dir = fresh_dir("snapshots");
  train(write_config(dir, "phased.yaml", two_phases(false)), dir / "run", {"training.snapshot_every=4"});
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir / "run" / "snapshots")) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  // Every 4 batches and at the end of each phase (6 and 13).
  EXPECT_EQ(names, (std::vector<std::string>{"batch_000004.pt", "batch_000006.pt", "batch_000008.pt",
                                             "batch_000012.pt", "batch_000013.pt"}));
  expect_same_weights(dir / "run" / "snapshots" / "batch_000013.pt", dir / "run" / "policy.pt");
  EXPECT_EQ(read_checkpoint_batch((dir / "run" / "checkpoint.pt").string()), 13);
  // A snapshot warm-starts a network of the same configuration, and is traced to its run's configuration.
  auto experiment = experiment_from_config(ConfigNode::parse(kBase));
  const auto source = resolve_policy_source((dir / "run" / "snapshots" / "batch_000006.pt").string());
  EXPECT_EQ(fs::path(source.config_file), dir / "run" / "config.yaml");
  load_policy_file(*experiment.policy, source.policy_file);
  const auto snapshot = policy_weights(dir / "run" / "snapshots" / "batch_000006.pt");
  const auto loaded = experiment.policy->parameters();
  ASSERT_EQ(snapshot.size(), loaded.size());
  for (size_t i = 0; i < loaded.size(); ++i) EXPECT_TRUE(torch::equal(snapshot[i], loaded[i]));
  // So does a trainer checkpoint.
  auto other = experiment_from_config(ConfigNode::parse(kBase));
  load_policy_file(*other.policy, (dir / "run" / "checkpoint.pt").string());
  const auto final_weights = policy_weights(dir / "run" / "policy.pt");
  for (size_t i = 0; i < final_weights.size(); ++i) EXPECT_TRUE(torch::equal(final_weights[i], other.policy->parameters()[i]));
}

TEST(Phases, BadPhasesAreErrorsNamingTheKey) {
  const auto dir = fresh_dir("bad");
  auto expect_error = [&](const std::string& phases, const std::string& fragment) {
    const auto config = write_config(dir, "bad.yaml", kBase + "phases:\n" + phases);
    const auto message = error_of([&] { train(config, dir / "run"); });
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
    EXPECT_FALSE(fs::exists(dir / "run")) << "nothing is written for a bad configuration";
    fs::remove_all(dir / "run");
  };
  expect_error("  - {name: a, n_batch: 3}\n", "phases[0].n_batch: unknown key (did you mean 'n_batches'?)");
  expect_error("  - {name: a, n_batches: 3}\n  - {name: b, n_batches: 2, set: {effector.preset: RigidTendonArm26}}\n",
               "phases[1].set.effector.preset: a phase cannot change 'effector'");
  expect_error("  - {name: a, n_batches: 3}\n  - {name: b, n_batches: 2, set: {policy.hidden_size: 16}}\n",
               "phases[1].set.policy.hidden_size: a phase cannot change 'policy'");
  expect_error("  - {name: a, n_batches: 3}\n  - {name: b, n_batches: 2, set: {training.replicates: 2}}\n",
               "phases[1].set.training.replicates: a phase cannot set training.replicates");
  expect_error("  - {name: a, n_batches: 3}\n  - {name: a, n_batches: 2}\n", "phases[1].name: a phase named 'a' comes earlier");
  expect_error("  - {name: a, n_batches: 0}\n", "phases[0].n_batches: must be at least 1, got 0");
  expect_error("  - {name: 'a,b', n_batches: 1}\n", "phases[0].name: 'a,b' is not a phase name");
  expect_error("  - {name: a, n_batches: 3}\n  - {name: b, n_batches: 2, set: {optimizer.type: sgd}}\n",
               "phases[1].set.optimizer.type: changes the optimizer itself");
  expect_error("  - {name: a, n_batches: 3}\n  - {name: b, n_batches: 2, set: {environment.task.type: CentreOutReach}}\n",
               "phases[1].set: changes the observation size");
  expect_error("  - {name: a, n_batches: 3}\n  - {name: b, n_batches: 2, set: {environment.task.fieds: []}}\n",
               "environment.task.fieds");
  expect_error("  - {name: a, n_batches: 3, init_from: " + (dir / "nowhere").string() + "}\n", "does not exist");
  expect_error("  []\n", "phases: expected a non-empty list of phases");
}

TEST(Phases, AWarmStartOfAnotherShapeIsAnErrorSayingWhichShape) {
  const auto dir = fresh_dir("shape");
  train(write_config(dir, "small.yaml", kBase), dir / "small", {"training.n_batches=1"});
  auto wider = kBase;
  wider.replace(wider.find("hidden_size: 8"), 14, "hidden_size: 16");
  const auto config = write_config(dir, "wide.yaml", wider);
  const auto message = error_of([&] { train(config, dir / "wide", {}, (dir / "small").string()); });
  EXPECT_NE(message.find("policy.pt: parameter 'w_ih_0' has shape [24, 12] there but this configuration expects [48, 12]"),
            std::string::npos)
      << message;
  EXPECT_FALSE(fs::exists(dir / "wide"));
  // A resumed run cannot be warm-started.
  const auto resume = error_of([&] {
    run_training(TrainingRunOptions().resume_directory((dir / "small").string()).init_from((dir / "small").string()));
  });
  EXPECT_NE(resume.find("continues from its own checkpoint"), std::string::npos) << resume;
}

TEST(Phases, WithoutPhasesARunIsOnePhase) {
  YAML::Node config = YAML::Load(kBase);
  config["training"]["n_batches"] = 9;
  const auto phases = phases_from_config(config);
  ASSERT_EQ(phases.size(), 1u);
  EXPECT_EQ(phases[0].name, "training");
  EXPECT_EQ(phases[0].n_batches, 9);
  // With phases, training.n_batches is the run's total: the last phase lasts until it.
  YAML::Node phased = YAML::Load(two_phases(false));
  phased["training"]["n_batches"] = 20;
  const auto extended = phases_from_config(phased);
  EXPECT_EQ(extended.back().first_batch, 6);
  EXPECT_EQ(extended.back().n_batches, 14);
  EXPECT_EQ(phase_at(extended, 0), 0u);
  EXPECT_EQ(phase_at(extended, 6), 0u);
  EXPECT_EQ(phase_at(extended, 7), 1u);
}

}  // namespace
}  // namespace motornet
