#pragma once
// LibTorch 1.13's register_buffer refuses a name twice. Models that are rebuilt (add_muscle, new bounds)
// replace a buffer's contents in place instead, which also keeps every handle to it valid. Internal.

#include <torch/torch.h>

#include <string>

namespace motornet {

inline torch::Tensor register_or_replace_buffer(torch::nn::Module& module, const std::string& name,
                                                torch::Tensor value) {
  auto buffers = module.named_buffers(/*recurse=*/false);
  if (torch::Tensor* existing = buffers.find(name)) {
    existing->set_data(value);  // handles share the tensor, so the module's buffer changes too
    return *existing;
  }
  return module.register_buffer(name, std::move(value));
}

}  // namespace motornet
