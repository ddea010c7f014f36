#include "python/bindings/python_muscle.h"

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <utility>

#include "motornet/body/registry.h"
#include "motornet/core/error.h"

namespace py = pybind11;

namespace motornet::python {
namespace {

class PythonMuscleImpl final : public MuscleImpl {
 public:
  // `model` is owned by the registry's factory for the life of the process (see register_python_muscle).
  PythonMuscleImpl(const py::object* model, std::string type, MuscleParameters shared, std::string config_path)
      : MuscleImpl(std::move(shared), std::move(config_path)), model_(model), type_(std::move(type)) {
    py::gil_scoped_acquire gil;
    state_names_ = model_->attr("state_name").cast<std::vector<std::string>>();
    require(!state_names_.empty() && state_names_[0] == "activation", type_ + ".state_name",
            "the first muscle state must be 'activation'");
    require(std::count(state_names_.begin(), state_names_.end(), "force") == 1, type_ + ".state_name",
            "one muscle state must be 'force'");
    n_derivatives_ = model_->attr("n_derivatives").cast<int64_t>();
    has_ode_ = model_->attr("_has_python_ode")().cast<bool>();
    const auto min_activation = model_->attr("_default_min_activation").cast<double>();
    specs_ = activation_parameter_specs(min_activation);
    for (const auto& [name, fallback] :
         model_->attr("_parameter_defaults")().cast<std::vector<std::pair<std::string, std::optional<double>>>>())
      specs_.push_back({name, fallback, MuscleParameterSpec::Range::kAny});
  }

  std::string type_name() const override { return type_; }
  std::vector<std::string> state_names() const override { return state_names_; }
  std::vector<MuscleParameterSpec> parameter_specs() const override { return specs_; }
  int64_t n_derivatives() const override { return n_derivatives_; }

  torch::Tensor ode(const torch::Tensor& excitation, const torch::Tensor& muscle_state) const override {
    if (!has_ode_) return activation_derivative(excitation, muscle_state.select(1, 0)).unsqueeze(1);
    return call("_ode", excitation.unsqueeze(1), muscle_state);
  }
  torch::Tensor integrate(double h, const torch::Tensor& derivative, const torch::Tensor& muscle_state,
                          const torch::Tensor& geometry_state) const override {
    return call("_integrate", h, derivative, muscle_state, geometry_state);
  }
  torch::Tensor proprioceptive_length_scale() const override { return scale(0); }
  torch::Tensor proprioceptive_velocity_scale() const override { return scale(1); }

 private:
  template <class... Args>
  torch::Tensor call(const char* method, Args&&... args) const {
    py::gil_scoped_acquire gil;
    py::object result = model_->attr(method)(std::forward<Args>(args)...);
    require(THPVariable_Check(result.ptr()), type_ + "." + method, "must return a torch.Tensor");
    return result.cast<torch::Tensor>();
  }
  // The Python object's proprioceptive scales (length, velocity), each [M] in the model's dtype.
  torch::Tensor scale(int which) const {
    py::gil_scoped_acquire gil;
    auto scales = model_->attr("_proprioception_scales")(n_muscles()).cast<std::pair<torch::Tensor, torch::Tensor>>();
    auto value = which == 0 ? scales.first : scales.second;
    return value.reshape({-1}).expand({n_muscles()}).to(min_activation().options());
  }

  const py::object* model_;
  std::string type_;
  std::vector<std::string> state_names_;
  std::vector<MuscleParameterSpec> specs_;
  int64_t n_derivatives_ = 1;
  bool has_ode_ = false;
};

}  // namespace

void register_python_muscle(const std::string& type, py::object model) {
  // Never released: the registry is a process-wide static, destroyed after the interpreter has finalised, when
  // dropping a Python reference would crash.
  const auto* kept = new py::object(std::move(model));
  register_muscle_type(type, [kept, type](MuscleParameters shared, const std::string& config_path) -> Muscle {
    return std::make_shared<PythonMuscleImpl>(kept, type, std::move(shared), config_path);
  });
}

}  // namespace motornet::python
