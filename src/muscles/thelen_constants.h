#pragma once
// Thelen (2003) constants of RigidTendonHillMuscleThelen (SPEC §5.3), shared by the op-by-op model and its
// fused kernel (internal).

namespace motornet::thelen {

constexpr double kPassiveShape = 5.0;       // k
constexpr double kPassiveStrainAtF0 = 0.6;  // e0
constexpr double kGamma = 0.45;             // width of the Gaussian force-length curve
constexpr double kAf = 0.25;                // force-velocity shape factor
constexpr double kFmlen = 1.4;              // maximal normalised lengthening force
constexpr double kMinLength = 0.001;        // m: fibre length floor
constexpr double kVmaxPerOptimalLength = 10.0;

}  // namespace motornet::thelen
