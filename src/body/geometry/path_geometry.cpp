#include "motornet/body/geometry/path_geometry.h"

#include <fmt/format.h>

#include <cmath>

#include "body/fused/tensor_values.h"
#include "core/replace_buffer.h"
#include "motornet/core/error.h"

namespace motornet {

PathGeometryImpl::PathGeometryImpl(Skeleton skeleton, const std::vector<MusclePath>& paths,
                                   const std::vector<std::string>& paths_config_path)
    : skeleton_(std::move(skeleton)), n_muscles_(static_cast<int64_t>(paths.size())) {
  const int64_t S = skeleton_->space_dim();
  std::vector<int64_t> bodies, segment_start;
  std::vector<std::vector<double>> coordinates(S);
  std::vector<int64_t> segment_owner;
  for (int64_t m = 0; m < n_muscles_; ++m) {
    const MusclePath& path = paths[m];
    std::string where = m < static_cast<int64_t>(paths_config_path.size()) && !paths_config_path[m].empty()
                            ? paths_config_path[m]
                            : fmt::format("muscles[{}]", m);
    auto key = [&](const char* name) { return where + "." + name; };
    require(path.fixation_body.size() >= 2, key("fixation_body"),
            fmt::format("a muscle path needs at least 2 points, got {}", path.fixation_body.size()));
    require(path.coordinates.size() == path.fixation_body.size(), key("coordinates"),
            fmt::format("expected one coordinate row per fixation point ({}), got {}", path.fixation_body.size(),
                        path.coordinates.size()));
    const int64_t first_point = static_cast<int64_t>(bodies.size());
    for (size_t i = 0; i < path.fixation_body.size(); ++i) {
      int64_t body = path.fixation_body[i];
      require(body >= 0 && body < skeleton_->n_bodies(), key("fixation_body"),
              fmt::format("body {} does not exist: {} has bodies 0 to {}", body, skeleton_->type_name(),
                          skeleton_->n_bodies() - 1));
      require(static_cast<int64_t>(path.coordinates[i].size()) == S, fmt::format("{}[{}]", key("coordinates"), i),
              fmt::format("expected {} values (the skeleton's space_dim), got {}", S, path.coordinates[i].size()));
      for (int64_t s = 0; s < S; ++s) {
        require(std::isfinite(path.coordinates[i][s]), fmt::format("{}[{}]", key("coordinates"), i),
                "coordinates must be finite");
        coordinates[s].push_back(path.coordinates[i][s]);
      }
      bodies.push_back(body);
      if (i + 1 < path.fixation_body.size()) {
        segment_start.push_back(first_point + static_cast<int64_t>(i));
        segment_owner.push_back(m);
      }
    }
  }
  // Index tensors are not buffers: Module::to(dtype) would turn them into floats.
  fixation_body_ = torch::tensor(bodies, torch::kInt64);
  segment_start_ = torch::tensor(segment_start, torch::kInt64);
  coordinate_rows_ = std::move(coordinates);
  segment_owner_ = std::move(segment_owner);
  materialize();
}

void PathGeometryImpl::materialize() {
  const int64_t S = static_cast<int64_t>(coordinate_rows_.size());
  const int64_t n_points = fixation_body_.size(0);
  auto coordinates = torch::empty({S, n_points}, torch::kFloat64);
  for (int64_t s = 0; s < S; ++s) coordinates[s] = torch::tensor(coordinate_rows_[s], torch::kFloat64);
  auto owner = torch::zeros({static_cast<int64_t>(segment_owner_.size()), n_muscles_}, torch::kFloat64);
  for (size_t k = 0; k < segment_owner_.size(); ++k) owner[k][segment_owner_[k]] = 1.0;
  coordinates_ = register_or_replace_buffer(*this, "coordinates", coordinates.to(tensor_options()));
  segment_muscle_ = register_or_replace_buffer(*this, "segment_muscle", owner.to(tensor_options()));
}

torch::Tensor PathGeometryImpl::forward(const torch::Tensor& joint_state) const {
  // SPEC §4: per segment d = P_{i+1} - P_i; length |d|, velocity d·ΔP'/|d|, moment d·Δ(dP/dq)/|d|.
  auto points = skeleton_->path_points(joint_state, fixation_body_.to(joint_state.device()), coordinates_);
  auto start = segment_start_.to(joint_state.device());
  auto end = segment_start_ + 1;
  auto delta = points.position.index_select(2, end) - points.position.index_select(2, start);  // [B, S, K]
  auto delta_velocity = points.velocity.index_select(2, end) - points.velocity.index_select(2, start);
  auto delta_jacobian = points.jacobian.index_select(3, end) - points.jacobian.index_select(3, start);  // [B,S,D,K]
  auto length = delta.norm(2, /*dim=*/1);                                                               // [B, K]
  auto velocity = (delta * delta_velocity).sum(1) / length;
  auto moment = (delta.unsqueeze(2) * delta_jacobian).sum(1) / length.unsqueeze(1);  // [B, D, K]
  // Sum segments into muscles with the [K, M] ownership matrix.
  auto per_segment = torch::cat({length.unsqueeze(1), velocity.unsqueeze(1), moment}, 1);  // [B, 2+D, K]
  return torch::matmul(per_segment, segment_muscle_);
}

std::shared_ptr<const fused::GeometryKernel> PathGeometryImpl::fused_kernel() const {
  // The skeleton knows how its path points move: it makes the kernel (or has none, and the paths go op by op).
  fused::MusclePaths paths;
  paths.n_muscles = n_muscles_;
  paths.coordinates = fused::rows(coordinates_.t());
  const auto bodies = fixation_body_.contiguous(), starts = segment_start_.contiguous();
  paths.body.assign(bodies.data_ptr<int64_t>(), bodies.data_ptr<int64_t>() + bodies.numel());
  paths.segment_start.assign(starts.data_ptr<int64_t>(), starts.data_ptr<int64_t>() + starts.numel());
  paths.segment_muscle = segment_owner_;
  return skeleton_->fused_path_kernel(paths);
}

}  // namespace motornet
