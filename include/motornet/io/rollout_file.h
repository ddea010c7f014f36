#pragma once
// rollout.h5: an evaluation rollout for analysis in Python (h5py), MATLAB or any HDF5 reader.
// Layout (float32, batch first, time second; index 0 of time is the state after reset):
//   /joint [B, T+1, 2D]   /cartesian [B, T+1, 2S]   /muscle [B, T+1, K, M]   /geometry [B, T+1, 2+D, M]
//   /hidden [B, T+1, H]   /action [B, T, M]         /goal [B, T+1, S]         /observation [B, T+1, obs]
// An evaluation adds trials/* and fields/<name>/* (train/evaluation.h); integer datasets (steps, flags) are int64.
// Attributes of the root group: timestep (s), muscle_names [M], muscle_state_names [K], config (the resolved
// YAML configuration of the run).

#include <map>
#include <string>
#include <vector>

#include "motornet/control/episode.h"

namespace motornet {

// The datasets of a rollout file, in the order of the layout above.
inline const std::vector<std::string> kRolloutDatasetNames = {"joint", "cartesian", "muscle", "geometry",
                                                              "hidden", "action", "goal", "observation"};

struct RolloutAttributes {
  double timestep = 0.0;
  std::vector<std::string> muscle_names;
  std::vector<std::string> muscle_state_names;
  std::string config;
};

// The datasets the file holds, by name, from a full rollout (see rollout(..., full = true)).
std::map<std::string, torch::Tensor> rollout_datasets(const EpisodeRecord& episode);

// Writes atomically (a temporary file renamed into place); InputError names the file on failure.
void write_rollout_file(const std::string& filename, const std::map<std::string, torch::Tensor>& datasets,
                        const RolloutAttributes& attributes);

struct RolloutFile {
  std::map<std::string, torch::Tensor> datasets;  // float32
  RolloutAttributes attributes;
};
RolloutFile read_rollout_file(const std::string& filename);

}  // namespace motornet
