// Analysis outputs: rollout.h5 round trip in C++ and read back with h5py; figures are valid PNG/SVG files of the
// expected size whose pixels are not blank; motornet-eval end to end.

#include <cairo.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "motornet/train/evaluation.h"
#include "motornet/io/figures.h"
#include "motornet/io/rollout_file.h"
#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

namespace fs = std::filesystem;

fs::path scratch(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("motornet_analysis_test_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A small arm experiment evaluated on centre-out targets (untrained policy: the figures still have content).
struct Fixture {
  Experiment experiment;
  EvaluationResult result;
};

Fixture evaluated_arm() {
  auto config = ConfigNode::parse(R"(
seed: 1
effector: {preset: RigidTendonArm26}
environment: {max_ep_duration: 0.3, vision_delay: 0.02, task: {type: CentreOutReach, n_targets: 4, go_cue_window: [0.05, 0.05]}}
policy: {type: GRU, hidden_size: 16}
)");
  Fixture f{experiment_from_config(config), {}};
  f.result = evaluate(*f.experiment.environment, *f.experiment.policy, f.experiment.losses);
  return f;
}

TEST(RolloutFile, RoundTripInCppAndH5py) {
  auto f = evaluated_arm();
  const auto& e = f.result.episode;
  EXPECT_EQ(e.fingertip.size(0), 4);  // the centre-out set
  auto dir = scratch("h5");
  auto file = (dir / "rollout.h5").string();
  RolloutAttributes attributes{0.01, f.experiment.effector->muscle_names(),
                               f.experiment.effector->muscle()->state_names(), "seed: 1\n"};
  auto datasets = rollout_datasets(e);
  write_rollout_file(file, datasets, attributes);

  auto back = read_rollout_file(file);
  for (const auto& [name, tensor] : datasets) EXPECT_TRUE(torch::equal(back.datasets.at(name), tensor.to(torch::kFloat32))) << name;
  EXPECT_EQ(back.datasets.at("muscle").sizes(), (std::vector<int64_t>{4, 31, 7, 6}));
  EXPECT_EQ(back.datasets.at("action").sizes(), (std::vector<int64_t>{4, 30, 6}));
  EXPECT_EQ(back.attributes.muscle_names, attributes.muscle_names);
  EXPECT_EQ(back.attributes.muscle_state_names, attributes.muscle_state_names);
  EXPECT_EQ(back.attributes.config, "seed: 1\n");
  EXPECT_DOUBLE_EQ(back.attributes.timestep, 0.01);

  auto listing = dir / "h5py.txt";
  std::string command = fmt::format("/usr/bin/python3 {}/python/read_rollout.py {} > {}", MOTORNET_TESTS_DIR, file,
                                    listing.string());
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream in(listing);
  std::map<std::string, std::string> lines;
  for (std::string line; std::getline(in, line);) lines[line.substr(0, line.find(' '))] = line.substr(line.find(' ') + 1);
  for (const auto& [name, tensor] : datasets) {
    std::stringstream fields(lines.at(name));
    std::string shape;
    double sum;
    fields >> shape >> sum;
    EXPECT_EQ(shape, fmt::format("{}", fmt::join(tensor.sizes(), "x"))) << name;
    EXPECT_NEAR(sum, tensor.to(torch::kFloat32).to(torch::kFloat64).sum().item<double>(), 1e-9 * (1 + std::fabs(sum))) << name;
  }
  EXPECT_EQ(lines.at("timestep"), "0.01");
  EXPECT_EQ(lines.at("muscle_names"), "pectoralis,deltoid,brachioradialis,tricepslat,biceps,tricepslong");
  EXPECT_EQ(lines.at("config_length"), "8");

  EXPECT_THROW(read_rollout_file((dir / "missing.h5").string()), InputError);
}

// Fraction of pixels of a PNG that are not (almost) white.
double ink(const std::string& png, int expected_width, int expected_height) {
  cairo_surface_t* surface = cairo_image_surface_create_from_png(png.c_str());
  EXPECT_EQ(cairo_surface_status(surface), CAIRO_STATUS_SUCCESS) << png;
  const int width = cairo_image_surface_get_width(surface), height = cairo_image_surface_get_height(surface);
  EXPECT_EQ(width, expected_width) << png;
  EXPECT_EQ(height, expected_height) << png;
  const int stride = cairo_image_surface_get_stride(surface);
  const unsigned char* data = cairo_image_surface_get_data(surface);
  int64_t inked = 0;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const unsigned char* pixel = data + y * stride + 4 * x;  // BGRA
      if (pixel[0] < 230 || pixel[1] < 230 || pixel[2] < 230) ++inked;
    }
  cairo_surface_destroy(surface);
  return static_cast<double>(inked) / (width * height);
}

void expect_figure(const fs::path& stem, double minimum_ink, int width = 800, int height = 600) {
  EXPECT_GT(ink(stem.string() + ".png", width, height), minimum_ink) << stem;
  auto svg = testing::read_text(stem.string() + ".svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos) << stem;
  EXPECT_NE(svg.find(fmt::format("width=\"{}pt\"", width)), std::string::npos) << stem;
  EXPECT_GT(svg.size(), 2000u) << stem;
}

TEST(Figures, EveryFigureIsAValidNonBlankImage) {
  auto f = evaluated_arm();
  auto dir = scratch("figures");
  draw_rollout_figures(dir.string(), f.result.episode, *f.experiment.effector);
  expect_figure(dir / "trajectories", 0.01);  // four paths and their targets: a sparse figure
  expect_figure(dir / "arm_snapshots", 0.03);
  expect_figure(dir / "muscle_activation", 0.02);
  expect_figure(dir / "hidden_activity", 0.3);  // a heat map fills its axes

  {
    std::ofstream metrics(dir / "metrics.csv");
    metrics << "batch,time_s,loss,loss_position_l1,validation_loss,lr,grad_norm\n";
    for (int b = 1; b <= 200; ++b)
      metrics << b << "," << b * 0.1 << "," << 1.0 / std::sqrt(b) << "," << 1.0 / std::sqrt(b) << ","
              << (b % 50 == 0 ? std::to_string(0.9 / std::sqrt(b)) : "") << ",0.001,1.0\n";
  }
  plot_loss_curve((dir / "metrics.csv").string(), (dir / "loss").string(), FigureSize{640, 480});
  expect_figure(dir / "loss", 0.02, 640, 480);
  EXPECT_THROW(plot_loss_curve((dir / "none.csv").string(), (dir / "x").string()), InputError);
}

TEST(Evaluation, SummaryPerTarget) {
  auto f = evaluated_arm();
  ASSERT_EQ(f.result.targets.size(), 4u);
  for (const auto& target : f.result.targets) {
    EXPECT_EQ(target.trials, 1);
    EXPECT_GE(target.endpoint_error, 0.0);
    EXPECT_GE(target.peak_speed, 0.0);
    EXPECT_LE(target.movement_time, 0.3 + 1e-9);
  }
  // The endpoint error is the distance from the target at the last step.
  const auto& e = f.result.episode;
  auto error0 = (e.fingertip[0][-1] - f.experiment.environment->trials().target[0]).norm().item<double>();
  EXPECT_NEAR(f.result.targets[0].endpoint_error, error0, 1e-6);
  auto summary = to_json(f.result);
  EXPECT_EQ(summary["targets"].size(), 4u);
  EXPECT_EQ(summary["trials"], 4);
}

int run_app(const std::string& command_line, std::string* output) {
  auto result = testing::run_command(command_line);
  *output += result.output;
  return result.status;
}

TEST(EvalApp, EvaluatesARunAndReportsBadInput) {
  auto dir = scratch("run");
  fs::remove_all(dir);
  std::string output;
  ASSERT_EQ(run_app(fmt::format("{} {}/tutorial_pointmass.yaml --out {} --quiet --set training.n_batches=3 "
                                "--set training.batch_size=4 --set environment.max_ep_duration=0.2",
                                MOTORNET_TRAIN_PATH, MOTORNET_CONFIGS_DIR, dir.string()),
                    &output),
            0)
      << output;
  for (const char* file : {"loss.png", "eval/rollout.h5", "eval/summary.json", "eval/trajectories.svg",
                           "eval/hidden_activity.png", "eval/muscle_activation.png"})
    EXPECT_TRUE(fs::exists(dir / file)) << file;

  output.clear();
  auto out = dir / "again";
  ASSERT_EQ(run_app(fmt::format("{} {} --batch 5 --out {}", MOTORNET_EVAL_PATH, dir.string(), out.string()), &output), 0)
      << output;
  auto rollout = read_rollout_file((out / "rollout.h5").string());
  EXPECT_EQ(rollout.datasets.at("joint").size(0), 5);
  EXPECT_NE(rollout.attributes.config.find("ReluPointMass24"), std::string::npos);
  auto summary = nlohmann::json::parse(testing::read_text((out / "summary.json").string()));
  EXPECT_EQ(summary["trials"], 5);

  output.clear();
  EXPECT_EQ(run_app(fmt::format("{} {} --task CentreOutReach", MOTORNET_EVAL_PATH, dir.string()), &output), 2) << output;
  EXPECT_NE(output.find("parameter 'w_ih_0' has shape [96, 12] in the checkpoint but [96, 15] in this configuration"),
            std::string::npos)
      << output;
  output.clear();
  EXPECT_EQ(run_app(fmt::format("{} {}", MOTORNET_EVAL_PATH, (dir / "nope").string()), &output), 2) << output;
  EXPECT_NE(output.find("no saved configuration"), std::string::npos) << output;

  output.clear();
  ASSERT_EQ(run_app(fmt::format("{} {}", MOTORNET_PLOT_PATH, dir.string()), &output), 0) << output;

  // Given empty or zero, an option is refused; the run's own directory is not an evaluation's --out.
  const auto run_summary = testing::read_text((dir / "summary.json").string());
  for (const auto& [arguments, message] : std::vector<std::pair<std::string, std::string>>{
           {"--batch 0", "--batch: must be at least 1, got 0"},
           {"--task ''", "--task: is empty"},
           {"--out ''", "--out: is empty"},
           {"--out " + dir.string(), "--out: is the run directory itself"}}) {
    output.clear();
    EXPECT_EQ(run_app(fmt::format("{} {} {}", MOTORNET_EVAL_PATH, dir.string(), arguments), &output), 2) << arguments;
    EXPECT_NE(output.find(message), std::string::npos) << arguments << ": " << output;
  }
  EXPECT_EQ(testing::read_text((dir / "summary.json").string()), run_summary);

  // A replicate's directory evaluates and plots with its run's configuration.
  auto replicated = scratch("replicated");
  fs::remove_all(replicated);
  output.clear();
  ASSERT_EQ(run_app(fmt::format("{} {}/tutorial_pointmass.yaml --out {} --quiet --set training.n_batches=2 "
                                "--set training.batch_size=4 --set environment.max_ep_duration=0.2 "
                                "--set training.replicates=2",
                                MOTORNET_TRAIN_PATH, MOTORNET_CONFIGS_DIR, replicated.string()),
                    &output),
            0)
      << output;
  const auto replicate = replicated / "replicate_01";
  output.clear();
  ASSERT_EQ(run_app(fmt::format("{} {} --batch 3 --out {}", MOTORNET_EVAL_PATH, replicate.string(),
                                (replicated / "eval_01").string()),
                    &output),
            0)
      << output;
  EXPECT_EQ(nlohmann::json::parse(testing::read_text((replicated / "eval_01" / "summary.json").string()))["trials"], 3);
  output.clear();
  EXPECT_EQ(run_app(fmt::format("{} {}", MOTORNET_PLOT_PATH, replicate.string()), &output), 0) << output;
}

}  // namespace
}  // namespace motornet
