#include "python/bindings/python_models.h"

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <utility>

#include "motornet/body/registry.h"
#include "motornet/body/skeleton.h"
#include "motornet/core/error.h"

namespace py = pybind11;

namespace motornet::python {
namespace {

// Calls `method` of a Python object with the GIL and requires a tensor back, naming the method otherwise.
template <class... Args>
torch::Tensor call_for_tensor(const py::object& model, const std::string& type, const char* method, Args&&... args) {
  py::gil_scoped_acquire gil;
  py::object result = model.attr(method)(std::forward<Args>(args)...);
  require(THPVariable_Check(result.ptr()), type + "." + method, "must return a torch.Tensor");
  return result.cast<torch::Tensor>();
}

JointBounds bounds_of(const py::object& model) {
  py::gil_scoped_acquire gil;
  auto b = model.attr("_engine_bounds")().cast<std::vector<std::vector<double>>>();
  return {b.at(0), b.at(1), b.at(2), b.at(3)};
}

py::object tensor_or_none(const torch::Tensor& t) { return t.defined() ? py::cast(t) : py::none(); }

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
    return call_for_tensor(*model_, type_, method, std::forward<Args>(args)...);
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

class PythonSkeletonImpl final : public SkeletonImpl {
 public:
  PythonSkeletonImpl(const py::object* model, std::string type)
      : SkeletonImpl(attribute(*model, "dof"), attribute(*model, "space_dim"), attribute(*model, "n_bodies"),
                     bounds_of(*model)),
        model_(model),
        type_(std::move(type)) {}

  std::string type_name() const override { return type_; }
  torch::Tensor ode(const torch::Tensor& generalized_force, const torch::Tensor& joint_state,
                    const torch::Tensor& endpoint_load) const override {
    py::gil_scoped_acquire gil;  // for tensor_or_none's Python object
    return call_for_tensor(*model_, type_, "_ode", generalized_force, joint_state, tensor_or_none(endpoint_load));
  }
  torch::Tensor joint_to_cartesian(const torch::Tensor& joint_state) const override {
    return call_for_tensor(*model_, type_, "_joint2cartesian", joint_state);
  }
  PathPoints path_points(const torch::Tensor& joint_state, const torch::Tensor& fixation_body,
                         const torch::Tensor& coordinates) const override {
    py::gil_scoped_acquire gil;
    py::object result = model_->attr("_path2cartesian")(coordinates, fixation_body, joint_state);
    try {
      auto [position, velocity, jacobian] = result.cast<std::tuple<torch::Tensor, torch::Tensor, torch::Tensor>>();
      return {position, velocity, jacobian};
    } catch (const py::cast_error&) {
      throw InputError(type_ + "._path2cartesian", "must return three tensors: positions, velocities, Jacobians");
    }
  }

 private:
  static int64_t attribute(const py::object& model, const char* name) {
    py::gil_scoped_acquire gil;
    return model.attr(name).cast<int64_t>();
  }

  const py::object* model_;
  std::string type_;
};

}  // namespace

void register_python_skeleton(const std::string& type, py::object model) {
  const auto* kept = new py::object(std::move(model));  // never released: see register_python_muscle
  register_skeleton_type(type, [kept, type](const ConfigNode&) -> Skeleton {
    return std::make_shared<PythonSkeletonImpl>(kept, type);
  });
}

void register_python_muscle(const std::string& type, py::object model) {
  // Never released: the registry is a process-wide static, destroyed after the interpreter has finalised, when
  // dropping a Python reference would crash.
  const auto* kept = new py::object(std::move(model));
  register_muscle_type(type, [kept, type](MuscleParameters shared, const std::string& config_path) -> Muscle {
    return std::make_shared<PythonMuscleImpl>(kept, type, std::move(shared), config_path);
  });
}

}  // namespace motornet::python
