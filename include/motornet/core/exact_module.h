#pragma once
// Base of every model module: its constants are described in float64 (the SPEC's decimal values) and its
// buffers are re-created from that description whenever the module moves to another dtype or device. A
// float32 model converted to float64 is therefore exactly the float64 model: no constant is rounded through
// float32 on the way (the golden files hold float64 runs to 1e-8).

#include <torch/torch.h>

namespace motornet {

class ExactModule : public torch::nn::Module {
 public:
  void to(torch::Device device, torch::Dtype dtype, bool non_blocking = false) override;
  void to(torch::Dtype dtype, bool non_blocking = false) override;
  void to(torch::Device device, bool non_blocking = false) override;

  // The dtype and device of this module's buffers.
  const torch::TensorOptions& tensor_options() const { return tensor_options_; }

 protected:
  // Re-creates the module's buffers from its float64 description with `tensor_options()`.
  virtual void materialize() = 0;

 private:
  torch::TensorOptions tensor_options_ =
      torch::TensorOptions().dtype(torch::typeMetaToScalarType(torch::get_default_dtype()));
};

}  // namespace motornet
