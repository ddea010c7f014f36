#pragma once
// Factories for the fused kernels of the built-in skeletons and geometries (internal; each model's `fused_kernel()` calls its
// factory with the current values of its buffers, rounded to the model's dtype).
#include <memory>
#include <vector>

#include "motornet/fused/kernels.h"

namespace motornet::fused {

std::shared_ptr<const SkeletonKernel> make_point_mass_kernel(int64_t space_dim, double mass, SkeletonBounds bounds);

struct TwoDofArmParameters {
  double m1, m2, l1, l2, l1g, l2g, i1, i2, viscosity;
};
std::shared_ptr<const SkeletonKernel> make_two_dof_arm_kernel(TwoDofArmParameters parameters, SkeletonBounds bounds);

// a0 [M], a1 and a2 [D][M], angle_offset [D].
std::shared_ptr<const GeometryKernel> make_polynomial_geometry_kernel(std::vector<double> a0,
                                                                      std::vector<std::vector<double>> a1,
                                                                      std::vector<std::vector<double>> a2,
                                                                      std::vector<double> angle_offset);
// moments [D][M]: length and velocity are zero.
std::shared_ptr<const GeometryKernel> make_constant_moment_geometry_kernel(std::vector<std::vector<double>> moments);

// Straight muscle paths between points fixed on the bodies of a skeleton (PathGeometry's layout).
struct MusclePaths {
  int64_t n_muscles = 0;
  std::vector<std::vector<double>> coordinates;  // [N][S], in each point's body frame
  std::vector<int64_t> body;                     // [N]
  std::vector<int64_t> segment_start;            // segment k joins points start and start + 1
  std::vector<int64_t> segment_muscle;           // the muscle each segment belongs to
};
// On a point mass (body 1) or the world (body 0), in `space_dim` dimensions.
std::shared_ptr<const GeometryKernel> make_point_mass_path_kernel(int64_t space_dim, MusclePaths paths);
// On the world (body 0), the upper arm (1) or the forearm (2) of a two-joint arm whose upper arm is l1 long.
std::shared_ptr<const GeometryKernel> make_two_dof_arm_path_kernel(double l1, MusclePaths paths);

}  // namespace motornet::fused
