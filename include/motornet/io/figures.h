#pragma once
// Figures drawn with cairo, each written as STEM.png and STEM.svg (800 x 600 px unless stated). Axes carry
// labels and units.

#include <string>
#include <vector>

#include "motornet/control/episode.h"

namespace motornet {

struct FigureSize {
  int width = 800;
  int height = 600;
};

// Training loss per batch (log scale) with the validation loss, from a run's metrics.csv.
// Lines of y over x, one per named curve (a legend names them), with a dot at each point.
struct Curve {
  std::string name;
  std::vector<double> x, y;
};
void plot_curves(const std::vector<Curve>& curves, const std::string& x_label, const std::string& y_label,
                 const std::string& title, const std::string& stem, FigureSize size = {});
// The training loss from metrics.csv (log scale); false, drawing nothing, when no batch has a positive loss
// (n_batches 0, every weight 0). A damaged row is an InputError naming the file and line.
bool plot_loss_curve(const std::string& metrics_csv, const std::string& stem, FigureSize size = {});
// Hand paths of every trial (up to 64) with their start and target, coloured by target.
void plot_trajectories(const EpisodeRecord& episode, const std::string& stem, FigureSize size = {});
// Stick figures of a two-joint arm (shoulder at the origin, upper arm `upper_arm_length`) every `every` steps
// for the first four trials.
void plot_arm_snapshots(const EpisodeRecord& episode, double upper_arm_length, const std::string& stem,
                        int every = 10, FigureSize size = {});
// Activation of every muscle over time in the first trial.
void plot_muscle_activation(const EpisodeRecord& episode, const std::vector<std::string>& muscle_names,
                            const std::string& stem, FigureSize size = {});
// Hidden units (rows) over time (columns) in the first trial, as a diverging heat map with a colour bar.
void plot_hidden_activity(const EpisodeRecord& episode, const std::string& stem, FigureSize size = {});

}  // namespace motornet
