#pragma once
// Reading a fused node's tensor inputs into rows of doubles and writing its outputs back (internal): the fused
// effector step and the environment's step node walk their batches row by row through these.
#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "body/fused/row_step.h"

namespace motornet::fused {

// A [B, n] view of a tensor's rows (a stride of 0 broadcasts one row) read into or written from doubles. An
// undefined tensor reads as `zeros_width` zeros per row (an absent output gradient) and ignores writes.
template <typename T>
struct Rows {
  explicit Rows(const torch::Tensor& t, int64_t zeros_width = 0)
      : data(t.defined() ? t.data_ptr<T>() : nullptr),
        width(t.defined() ? t.numel() / std::max<int64_t>(t.size(0), 1) : zeros_width),
        row_stride(t.defined() ? t.stride(0) : 0),
        column_stride(t.defined() && t.dim() == 2 ? t.stride(1) : 1) {}
  void read(int64_t b, double* out) const {
    if (!data) return std::fill(out, out + width, 0.0);
    const T* row = data + b * row_stride;
    for (int64_t i = 0; i < width; ++i) out[i] = static_cast<double>(row[i * column_stride]);
  }
  void write(int64_t b, const double* in) const {
    if (!data) return;
    T* row = data + b * row_stride;
    for (int64_t i = 0; i < width; ++i) row[i * column_stride] = static_cast<T>(in[i]);
  }
  T* data;
  int64_t width, row_stride, column_stride;
};

// A stage [joint | muscle | geometry] spread over three [B, ...] tensors (undefined ones: zeros of `layout`'s
// widths).
template <typename T>
struct StageRows {
  StageRows(const torch::Tensor& joint, const torch::Tensor& muscle, const torch::Tensor& geometry,
            const RowLayout& layout)
      : parts{Rows<T>(joint, layout.muscle - layout.joint), Rows<T>(muscle, layout.geometry - layout.muscle),
              Rows<T>(geometry, layout.stage - layout.geometry)} {}
  void read(int64_t b, double* out) const {
    for (const auto& part : parts) {
      part.read(b, out);
      out += part.width;
    }
  }
  void write(int64_t b, const double* in) const {
    for (const auto& part : parts) {
      part.write(b, in);
      in += part.width;
    }
  }
  Rows<T> parts[3];
};

// The inputs of a step, read row by row into a task's own buffer.
template <typename T>
struct InputRows {
  InputRows(const torch::Tensor& joint, const torch::Tensor& muscle, const torch::Tensor& geometry,
            const torch::Tensor& action, const torch::Tensor& endpoint_load, const torch::Tensor& joint_load,
            const RowLayout& layout)
      : layout(layout),
        stage(joint, muscle, geometry, layout),
        action(action),
        endpoint(endpoint_load),
        torque(joint_load) {}
  // Row b as a RowInput pointing into `buffer` (resized on first use); absent loads are nullptr.
  RowInput read(int64_t b, std::vector<double>& buffer) const {
    const auto& L = layout;
    buffer.resize(L.stage + L.M + L.S + L.D);
    double *x = buffer.data(), *act = x + L.stage, *fe = act + L.M, *fj = fe + L.S;
    stage.read(b, x);
    action.read(b, act);
    endpoint.read(b, fe);
    torque.read(b, fj);
    return {x, act, endpoint.data ? fe : nullptr, torque.data ? fj : nullptr};
  }
  RowLayout layout;
  StageRows<T> stage;
  Rows<T> action, endpoint, torque;
};

}  // namespace motornet::fused
