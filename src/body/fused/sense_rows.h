#pragma once
// The senses of a fused step's new state, row by row (SPEC §7; the same arithmetic, in T, as fused::senses):
//   vision = fingertip + sigma_v * draw,  proprioception = [length, velocity] / scale + sigma_p * draw,
// written into columns of one or two row-major tensors (their own [B, S] and [B, 2M], or the slots of an
// observation row), and the vector-Jacobian product that adds their gradients to the state's. Internal.
#include <torch/torch.h>

#include "body/fused/row_step.h"
#include "body/fused/senses.h"

namespace motornet::fused {

// Where a row's senses live: vision at `vision + b * vision_stride`, proprioception at `proprio + b *
// proprio_stride` (columns adjacent).
template <typename P>
struct SenseColumns {
  P* vision = nullptr;
  int64_t vision_stride = 0;
  P* proprio = nullptr;
  int64_t proprio_stride = 0;
};

template <typename T>
class SenseRows {
 public:
  // `scale` [2, M] and the draws ([B, S], [B, 2M], or empty where the sigma is 0) contiguous, in T.
  SenseRows(const SensesOptions& options, const RowLayout& layout, const torch::Tensor& scale,
            const torch::Tensor& vision_draws, const torch::Tensor& proprio_draws)
      : S_(layout.S),
        M_(layout.M),
        row_(options.length_row),
        sv_(static_cast<T>(options.vision_sigma)),
        sp_(static_cast<T>(options.proprioception_sigma)),
        scale_(scale.data_ptr<T>()),
        vision_noise_(vision_draws.numel() ? vision_draws.data_ptr<T>() : nullptr),
        proprio_noise_(proprio_draws.numel() ? proprio_draws.data_ptr<T>() : nullptr) {}

  // Row b's senses from its new `cartesian` [2S] and `muscle` [K*M] state in double, rounded to T first as the
  // state is (so they equal the senses of the returned state).
  void forward(int64_t b, const double* cartesian, const double* muscle, const SenseColumns<T>& out) const {
    T* vision = out.vision + b * out.vision_stride;
    for (int64_t i = 0; i < S_; ++i)
      vision[i] = static_cast<T>(cartesian[i]) + (vision_noise_ ? sv_ * vision_noise_[b * S_ + i] : T(0));
    T* proprio = out.proprio + b * out.proprio_stride;
    for (int64_t k = 0; k < 2 * M_; ++k)  // k = channel * M + muscle: the length row, then the velocity row
      proprio[k] = static_cast<T>(muscle[row_ * M_ + k]) / scale_[k] +
                   (proprio_noise_ ? sp_ * proprio_noise_[b * 2 * M_ + k] : T(0));
  }

  // Adds row b of the senses' gradients (a null pointer: no gradient) into the gradients of the cartesian state
  // [2S] and of the muscle state [K*M].
  void backward(int64_t b, const SenseColumns<const T>& grad, double* grad_cartesian, double* grad_muscle) const {
    if (grad.vision) {
      const T* g = grad.vision + b * grad.vision_stride;
      for (int64_t i = 0; i < S_; ++i) grad_cartesian[i] += static_cast<double>(g[i]);
    }
    if (grad.proprio) {
      const T* g = grad.proprio + b * grad.proprio_stride;
      for (int64_t k = 0; k < 2 * M_; ++k) grad_muscle[row_ * M_ + k] += static_cast<double>(g[k] / scale_[k]);
    }
  }

 private:
  int64_t S_, M_, row_;
  T sv_, sp_;
  const T *scale_, *vision_noise_, *proprio_noise_;
};

}  // namespace motornet::fused
