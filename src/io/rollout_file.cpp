#include "motornet/io/rollout_file.h"

#include <fmt/format.h>
#include <hdf5.h>

#include <cstdio>

#include "motornet/core/error.h"
#include "motornet/io/atomic_file.h"

namespace motornet {

namespace {

// Closes an HDF5 handle when it goes out of scope.
struct Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  ~Handle() {
    if (id >= 0) close(id);
  }
};

void check(bool ok, const std::string& filename, const std::string& what) {
  if (!ok) throw InputError(filename, "HDF5: " + what);
}

void write_string_array(hid_t group, const char* name, const std::vector<std::string>& values,
                        const std::string& filename) {
  Handle type{H5Tcopy(H5T_C_S1), H5Tclose};
  H5Tset_size(type.id, H5T_VARIABLE);
  hsize_t size = values.size();
  Handle space{H5Screate_simple(1, &size, nullptr), H5Sclose};
  Handle attribute{H5Acreate2(group, name, type.id, space.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
  check(attribute.id >= 0, filename, fmt::format("cannot create attribute {}", name));
  std::vector<const char*> pointers;
  for (const auto& value : values) pointers.push_back(value.c_str());
  check(H5Awrite(attribute.id, type.id, pointers.data()) >= 0, filename, fmt::format("cannot write attribute {}", name));
}

std::vector<std::string> read_string_array(hid_t group, const char* name, const std::string& filename) {
  Handle attribute{H5Aopen(group, name, H5P_DEFAULT), H5Aclose};
  check(attribute.id >= 0, filename, fmt::format("missing attribute {}", name));
  Handle space{H5Aget_space(attribute.id), H5Sclose};
  hssize_t count = H5Sget_simple_extent_npoints(space.id);
  Handle type{H5Tcopy(H5T_C_S1), H5Tclose};
  H5Tset_size(type.id, H5T_VARIABLE);
  std::vector<char*> pointers(static_cast<size_t>(count), nullptr);
  check(H5Aread(attribute.id, type.id, pointers.data()) >= 0, filename, fmt::format("cannot read attribute {}", name));
  std::vector<std::string> values;
  for (char* pointer : pointers) {
    values.emplace_back(pointer ? pointer : "");
    H5free_memory(pointer);
  }
  return values;
}

}  // namespace

std::map<std::string, torch::Tensor> rollout_datasets(const EpisodeRecord& e) {
  require(e.muscle.defined(), "rollout", "the rollout was not recorded in full (rollout(..., full = true))");
  return {{"joint", e.joint},       {"cartesian", e.cartesian}, {"muscle", e.muscle}, {"geometry", e.geometry},
          {"hidden", e.hidden},     {"action", e.action},       {"goal", e.goal},     {"observation", e.observation}};
}

namespace {

// The whole file built in memory (HDF5's core driver without a backing store), returned as its bytes: the disk is
// written by write_file_atomically alone, whose errors (a full disk) are checked and leave the previous file.
// HDF5 writing to a failing disk itself reports the error but then crashes at exit, closing a file it cannot
// flush.
std::string rollout_file_image(const std::string& filename, const std::map<std::string, torch::Tensor>& datasets,
                               const RolloutAttributes& attributes) {
  Handle access{H5Pcreate(H5P_FILE_ACCESS), H5Pclose};
  check(access.id >= 0 && H5Pset_fapl_core(access.id, 1 << 20, /*backing_store=*/0) >= 0, filename,
        "cannot set up an in-memory file");
  Handle file{H5Fcreate(filename.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.id), H5Fclose};
  check(file.id >= 0, filename, "cannot create the file in memory");
  // Names with '/' (trials/start, fields/curl/force) are datasets in groups, created on the way.
  Handle link_options{H5Pcreate(H5P_LINK_CREATE), H5Pclose};
  H5Pset_create_intermediate_group(link_options.id, 1);
  for (const auto& [name, tensor] : datasets) {
    // Counts, steps and flags are stored as integers, everything else as float32.
    const bool integral = !tensor.is_floating_point();
    auto values = tensor.detach().to(torch::kCPU, integral ? torch::kInt64 : torch::kFloat32).contiguous();
    std::vector<hsize_t> dims(values.sizes().begin(), values.sizes().end());
    Handle space{H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose};
    Handle dataset{H5Dcreate2(file.id, ("/" + name).c_str(), integral ? H5T_STD_I64LE : H5T_IEEE_F32LE, space.id,
                              link_options.id, H5P_DEFAULT, H5P_DEFAULT),
                   H5Dclose};
    check(dataset.id >= 0, filename, "cannot create dataset /" + name);
    check(H5Dwrite(dataset.id, integral ? H5T_NATIVE_INT64 : H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                   values.data_ptr()) >= 0,
          filename, "cannot write dataset /" + name);
  }
  {
    Handle root{H5Gopen2(file.id, "/", H5P_DEFAULT), H5Gclose};
    hsize_t one = 1;
    Handle scalar{H5Screate_simple(1, &one, nullptr), H5Sclose};
    Handle timestep{H5Acreate2(root.id, "timestep", H5T_IEEE_F64LE, scalar.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
    check(H5Awrite(timestep.id, H5T_NATIVE_DOUBLE, &attributes.timestep) >= 0, filename, "cannot write timestep");
    write_string_array(root.id, "muscle_names", attributes.muscle_names, filename);
    write_string_array(root.id, "muscle_state_names", attributes.muscle_state_names, filename);
    write_string_array(root.id, "config", {attributes.config}, filename);
  }
  check(H5Fflush(file.id, H5F_SCOPE_GLOBAL) >= 0, filename, "cannot finish the file in memory");
  const ssize_t size = H5Fget_file_image(file.id, nullptr, 0);
  check(size > 0, filename, "cannot take the file's image");
  std::string image(static_cast<size_t>(size), '\0');
  check(H5Fget_file_image(file.id, image.data(), static_cast<size_t>(size)) == size, filename,
        "cannot take the file's image");
  return image;
}

}  // namespace

void write_rollout_file(const std::string& filename, const std::map<std::string, torch::Tensor>& datasets,
                        const RolloutAttributes& attributes) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are reported as InputError, not printed
  const std::string image = rollout_file_image(filename, datasets, attributes);
  write_file_atomically(filename, [&](std::ostream& out) { out.write(image.data(), static_cast<std::streamsize>(image.size())); });
}

RolloutFile read_rollout_file(const std::string& filename) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Handle file{H5Fopen(filename.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  check(file.id >= 0, filename, "cannot open the file (missing, or not HDF5)");
  RolloutFile result;
  for (const auto& name : kRolloutDatasetNames) {
    Handle dataset{H5Dopen2(file.id, ("/" + name).c_str(), H5P_DEFAULT), H5Dclose};
    check(dataset.id >= 0, filename, fmt::format("missing dataset /{}", name));
    Handle space{H5Dget_space(dataset.id), H5Sclose};
    const int rank = H5Sget_simple_extent_ndims(space.id);
    std::vector<hsize_t> dims(rank);
    H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
    auto tensor = torch::empty(std::vector<int64_t>(dims.begin(), dims.end()), torch::kFloat32);
    check(H5Dread(dataset.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, tensor.data_ptr<float>()) >= 0, filename,
          fmt::format("cannot read dataset /{}", name));
    result.datasets[name] = tensor;
  }
  Handle root{H5Gopen2(file.id, "/", H5P_DEFAULT), H5Gclose};
  Handle timestep{H5Aopen(root.id, "timestep", H5P_DEFAULT), H5Aclose};
  check(timestep.id >= 0 && H5Aread(timestep.id, H5T_NATIVE_DOUBLE, &result.attributes.timestep) >= 0, filename,
        "missing attribute timestep");
  result.attributes.muscle_names = read_string_array(root.id, "muscle_names", filename);
  result.attributes.muscle_state_names = read_string_array(root.id, "muscle_state_names", filename);
  auto config = read_string_array(root.id, "config", filename);
  result.attributes.config = config.empty() ? "" : config[0];
  return result;
}

}  // namespace motornet
