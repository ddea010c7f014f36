#pragma once
// Factories for the fused kernels of the built-in geometries (internal; each model's `fused_kernel()` calls its
// factory with the current values of its buffers, rounded to the model's dtype).
#include <memory>
#include <vector>

#include "motornet/fused/kernels.h"

namespace motornet::fused {

// a0 [M], a1 and a2 [D][M], angle_offset [D].
std::shared_ptr<const GeometryKernel> make_polynomial_geometry_kernel(std::vector<double> a0,
                                                                      std::vector<std::vector<double>> a1,
                                                                      std::vector<std::vector<double>> a2,
                                                                      std::vector<double> angle_offset);
// moments [D][M]: length and velocity are zero.
std::shared_ptr<const GeometryKernel> make_constant_moment_geometry_kernel(std::vector<std::vector<double>> moments);

// On a point mass (body 1) or the world (body 0), in `space_dim` dimensions.
std::shared_ptr<const GeometryKernel> make_point_mass_path_kernel(int64_t space_dim, MusclePaths paths);
// On the world (body 0), the upper arm (1) or the forearm (2) of a two-joint arm whose upper arm is l1 long.
std::shared_ptr<const GeometryKernel> make_two_dof_arm_path_kernel(double l1, MusclePaths paths);

}  // namespace motornet::fused
