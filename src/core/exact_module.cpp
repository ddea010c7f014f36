#include "motornet/core/exact_module.h"

namespace motornet {

void ExactModule::to(torch::Device device, torch::Dtype dtype, bool non_blocking) {
  tensor_options_ = tensor_options_.device(device).dtype(dtype);
  torch::nn::Module::to(device, dtype, non_blocking);  // children and any other state
  materialize();
}

void ExactModule::to(torch::Dtype dtype, bool non_blocking) {
  tensor_options_ = tensor_options_.dtype(dtype);
  torch::nn::Module::to(dtype, non_blocking);
  materialize();
}

void ExactModule::to(torch::Device device, bool non_blocking) {
  tensor_options_ = tensor_options_.device(device);
  torch::nn::Module::to(device, non_blocking);
  materialize();
}

}  // namespace motornet
