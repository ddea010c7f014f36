// motornet._engine: the C++ engine as the Python package (python/motornet) sees it. Thin on purpose: the
// package's classes keep the reference API in Python and call these for the work (building an effector from its
// configuration, resetting and stepping it through the fused kernels, training and loading runs). Tensors cross
// without copies (LibTorch's pybind11 casters; Debian's python3-torch loads the same LibTorch), so autograd runs
// from a Python loss through the C++ nodes and back.
//
// Errors: an InputError (bad configuration or argument) becomes ValueError with the C++ message; LibTorch's own
// errors keep their Python types (c10::Error: RuntimeError, c10::TypeError: TypeError, ...).

#include <torch/extension.h>

#include <fmt/format.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "body/fused/effector_step.h"
#include "body/fused/senses.h"
#include "control/policies/gru_policy_step.h"
#include "motornet/body/effector.h"
#include "motornet/body/effector_config.h"
#include "motornet/body/registry.h"
#include "motornet/core/config.h"
#include "motornet/core/error.h"
#include "motornet/env/environment.h"
#include "motornet/env/environment_config.h"
#include "motornet/train/training_run.h"
#include "python/bindings/python_models.h"

namespace py = pybind11;

namespace motornet::python {
namespace {

using StateTuple = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor>;

StateTuple as_tuple(const EffectorState& state) { return {state.joint, state.cartesian, state.muscle, state.geometry}; }

EffectorState as_state(const torch::Tensor& joint, const torch::Tensor& cartesian, const torch::Tensor& muscle,
                       const torch::Tensor& geometry) {
  return {joint, cartesian, muscle, geometry};
}

torch::Tensor or_undefined(const std::optional<torch::Tensor>& t) { return t ? *t : torch::Tensor(); }

// The effector block (JSON, which is YAML) as effector_from_config reads it; `path` names it in errors.
Effector effector_from_json(const std::string& json, const std::string& path) {
  return effector_from_config(ConfigNode::parse(json, path).at("effector"));
}

// [2, M]: the proprioceptive length and velocity scales, in the effector's dtype.
torch::Tensor proprioception_scales(const EffectorImpl& effector) {
  return effector.muscle()->proprioceptive_scales().to(effector.tensor_options());
}

// One step and the senses of its new state as one autograd node: (state..., vision, proprioception) or, with
// `task_inputs` [B, I], (state..., observation [task inputs | vision | proprioception]); None when the step runs
// op by op (the package then senses in Python). `scales` is proprioception_scales() and `length_row` the muscle
// state's length row, both taken once per episode by the caller.
py::object step_sensed(const EffectorImpl& effector, const torch::Tensor& joint, const torch::Tensor& cartesian,
                       const torch::Tensor& muscle, const torch::Tensor& geometry, const torch::Tensor& action,
                       const torch::Tensor& scales, int64_t length_row, const std::optional<torch::Tensor>& endpoint_load,
                       const std::optional<torch::Tensor>& vision_draws, const std::optional<torch::Tensor>& proprio_draws,
                       double vision_sigma, double proprioception_sigma,
                       const std::optional<torch::Tensor>& task_inputs) {
  fused::SensesOptions senses;
  senses.length_row = length_row;
  senses.scale = scales;
  senses.vision_sigma = vision_draws ? vision_sigma : 0.0;
  senses.proprioception_sigma = proprio_draws ? proprioception_sigma : 0.0;
  auto sensed = effector.step_and_sense(as_state(joint, cartesian, muscle, geometry), action,
                                        or_undefined(endpoint_load), senses, or_undefined(vision_draws),
                                        or_undefined(proprio_draws), or_undefined(task_inputs));
  if (!sensed) return py::none();
  const auto& s = sensed->state;
  if (task_inputs) return py::make_tuple(s.joint, s.cartesian, s.muscle, s.geometry, sensed->observation);
  return py::make_tuple(s.joint, s.cartesian, s.muscle, s.geometry, sensed->vision, sensed->proprioception);
}

void bind_effector(py::module_& m) {
  py::class_<EffectorImpl, std::shared_ptr<EffectorImpl>>(m, "Effector",
                                                          "The C++ effector (skeleton, muscles, geometry).")
      .def_static("from_json", [](const std::string& json, const std::string& path) { return effector_from_json(json, path).ptr(); },
                  py::arg("json"), py::arg("path") = "effector")
      .def(
          "reset",
          [](const EffectorImpl& e, int64_t batch_size, const std::optional<torch::Tensor>& joint_state) {
            return as_tuple(e.reset(batch_size, joint_state));
          },
          py::arg("batch_size"), py::arg("joint_state") = py::none())
      .def(
          "step",
          [](const EffectorImpl& e, const torch::Tensor& joint, const torch::Tensor& cartesian,
             const torch::Tensor& muscle, const torch::Tensor& geometry, const torch::Tensor& action,
             const std::optional<torch::Tensor>& endpoint_load, const std::optional<torch::Tensor>& joint_load) {
            return as_tuple(e.step(as_state(joint, cartesian, muscle, geometry), action, or_undefined(endpoint_load),
                                   or_undefined(joint_load)));
          },
          py::arg("joint"), py::arg("cartesian"), py::arg("muscle"), py::arg("geometry"), py::arg("action"),
          py::arg("endpoint_load") = py::none(), py::arg("joint_load") = py::none())
      .def("step_sensed", &step_sensed, py::arg("joint"), py::arg("cartesian"), py::arg("muscle"),
           py::arg("geometry"), py::arg("action"), py::arg("scales"), py::arg("length_row"),
           py::arg("endpoint_load") = py::none(),
           py::arg("vision_draws") = py::none(), py::arg("proprio_draws") = py::none(), py::arg("vision_sigma") = 0.0,
           py::arg("proprioception_sigma") = 0.0, py::arg("task_inputs") = py::none())
      .def(
          "add_muscle",
          [](EffectorImpl& e, const std::vector<int64_t>& fixation_body,
             const std::vector<std::vector<double>>& coordinates, const std::string& name,
             const MuscleParameters& parameters) {
            e.add_muscle(MusclePath{fixation_body, coordinates},
                         MuscleEntry{name, parameters, fmt::format("add_muscle(name='{}')", name)});
          },
          py::arg("fixation_body"), py::arg("coordinates"), py::arg("name"), py::arg("parameters"))
      .def("joint_to_cartesian",
           [](const EffectorImpl& e, const torch::Tensor& joint) { return e.skeleton()->joint_to_cartesian(joint); })
      .def("geometry", [](const EffectorImpl& e, const torch::Tensor& joint) { return e.geometry()->forward(joint); })
      .def("initial_muscle_state",
           [](const EffectorImpl& e, const torch::Tensor& geometry) { return e.muscle()->initial_state(geometry); })
      .def("muscle_ode", [](const EffectorImpl& e, const torch::Tensor& excitation,
                            const torch::Tensor& muscle_state) { return e.muscle()->ode(excitation, muscle_state); })
      .def("muscle_integrate",
           [](const EffectorImpl& e, double h, const torch::Tensor& derivative, const torch::Tensor& muscle_state,
              const torch::Tensor& geometry) { return e.muscle()->integrate(h, derivative, muscle_state, geometry); })
      .def("muscle_parameter", [](const EffectorImpl& e, const std::string& name) { return e.muscle()->parameter(name); })
      .def("proprioception_scales", [](const EffectorImpl& e) { return proprioception_scales(e); })
      .def("position_bounds",
           [](const EffectorImpl& e) {
             const auto& b = e.skeleton()->bounds();
             return std::make_tuple(b.position_lower, b.position_upper);
           })
      .def("velocity_bounds",
           [](const EffectorImpl& e) {
             const auto& b = e.skeleton()->bounds();
             return std::make_tuple(b.velocity_lower, b.velocity_upper);
           })
      .def("to_dtype",
           [](EffectorImpl& e, const std::string& dtype) {
             require(dtype == "float32" || dtype == "float64", "dtype",
                     fmt::format("must be float32 or float64, got {}", dtype));
             e.to(dtype == "float64" ? torch::kFloat64 : torch::kFloat32);
           })
      .def_property_readonly("n_muscles", &EffectorImpl::n_muscles)
      .def_property_readonly("dof", &EffectorImpl::dof)
      .def_property_readonly("space_dim", &EffectorImpl::space_dim)
      .def_property_readonly("timestep", &EffectorImpl::timestep)
      .def_property_readonly("n_ministeps", [](const EffectorImpl& e) { return e.options().n_ministeps(); })
      .def_property_readonly("muscle_names", &EffectorImpl::muscle_names)
      .def_property_readonly("muscle_type", [](const EffectorImpl& e) { return e.muscle()->type_name(); })
      .def_property_readonly("skeleton_type", [](const EffectorImpl& e) { return e.skeleton()->type_name(); })
      .def_property_readonly("muscle_state_names", [](const EffectorImpl& e) { return e.muscle()->state_names(); })
      .def_property_readonly("muscle_parameter_names", [](const EffectorImpl& e) { return e.muscle()->parameter_names(); })
      .def_property_readonly("uses_fused_kernels", &EffectorImpl::uses_fused_kernels);
}

py::dict states_dict(const EffectorState& state) {
  py::dict d;
  d["joint"] = state.joint;
  d["cartesian"] = state.cartesian;
  d["muscle"] = state.muscle;
  d["geometry"] = state.geometry;
  d["fingertip"] = state.fingertip();
  return d;
}

py::dict info_dict(const StepInfo& info) {
  py::dict d;
  d["states"] = states_dict(info.states);
  d["goal"] = info.goal;
  d["action"] = info.action.defined() ? py::cast(info.action) : py::none();
  d["noisy action"] = info.noisy_action.defined() ? py::cast(info.noisy_action) : py::none();
  d["endpoint_load"] = info.endpoint_load.defined() ? py::cast(info.endpoint_load) : py::none();
  py::dict fields;
  for (const auto& [name, force] : info.field_forces) fields[py::str(name)] = force;
  d["field_forces"] = fields;
  d["step"] = info.step;
  return d;
}

// An environment with a configured task (the `effector:` and `environment:` blocks of an experiment file): the
// C++ Environment, whose tasks, fields and trial schedule the Python package does not re-implement.
void bind_task_environment(py::module_& m) {
  py::class_<EnvironmentImpl, std::shared_ptr<EnvironmentImpl>>(m, "TaskEnvironment")
      .def_static(
          "from_json",
          [](const std::string& json) {
            auto root = ConfigNode::parse(json, "config");
            auto effector = effector_from_config(root.at("effector"));
            return environment_from_config(root.at("environment"), effector).ptr();
          },
          py::arg("json"))
      .def(
          "reset",
          [](EnvironmentImpl& env, int64_t batch_size, bool deterministic, bool evaluation,
             const std::optional<torch::Tensor>& joint_state, const std::optional<torch::Tensor>& target) {
            auto result = env.reset(ResetOptions()
                                        .batch_size(batch_size)
                                        .deterministic(deterministic)
                                        .evaluation(evaluation)
                                        .joint_state(or_undefined(joint_state))
                                        .target(or_undefined(target)));
            return py::make_tuple(result.observation, info_dict(result.info));
          },
          py::arg("batch_size") = 1, py::arg("deterministic") = false, py::arg("evaluation") = false,
          py::arg("joint_state") = py::none(), py::arg("target") = py::none())
      .def("step",
           [](EnvironmentImpl& env, const torch::Tensor& action) {
             auto result = env.step(action);
             return py::make_tuple(result.observation, result.terminated, info_dict(result.info));
           })
      .def("seed", &EnvironmentImpl::seed)
      .def_property_readonly("effector", [](const EnvironmentImpl& env) { return env.effector().ptr(); })
      .def_property_readonly("observation_size", &EnvironmentImpl::observation_size)
      .def_property_readonly("n_steps", &EnvironmentImpl::n_steps)
      .def_property_readonly("timestep", &EnvironmentImpl::timestep);
}

// PolicyGRU's step as one autograd node: the GRU cell and the sigmoid readout (values and gradients those of
// torch.gru_cell + sigmoid(addmm)), with the weight gradients of an episode summed before they reach the
// weights (control/policies/gru_policy_step.h). None when the fused step does not apply (dtype, shapes).
void bind_policy_step(py::module_& m) {
  py::class_<GruPolicyStepper, std::shared_ptr<GruPolicyStepper>>(m, "GruPolicyStepper")
      .def(py::init<>())
      .def("step",
           [](GruPolicyStepper& stepper, const torch::Tensor& observation, const torch::Tensor& hidden,
              const torch::Tensor& w_ih, const torch::Tensor& w_hh, const torch::Tensor& b_ih,
              const torch::Tensor& b_hh, const torch::Tensor& w_out, const torch::Tensor& b_out) -> py::object {
             const GruPolicyWeights weights{w_ih, w_hh, b_ih, b_hh, w_out, b_out};
             if (!GruPolicyStepper::applies(observation, hidden, weights)) return py::none();
             auto [action, next_hidden] = stepper.step(observation, hidden, torch::Tensor(), weights);
             return py::make_tuple(action, next_hidden);
           });
}

// motornet.train: one whole training run as motornet-train does it; returns the run directory. The GIL is
// released for the run's minutes.
void bind_runs(py::module_& m) {
  m.def(
      "train",
      [](const std::string& config_file, const std::vector<std::string>& overrides, const std::string& run_directory,
         bool quiet) {
        py::gil_scoped_release release;
        return run_training(TrainingRunOptions()
                                .config_file(config_file)
                                .overrides(overrides)
                                .run_directory(run_directory)
                                .quiet(quiet))
            .run_directory;
      },
      py::arg("config_file"), py::arg("overrides") = std::vector<std::string>{}, py::arg("run_directory") = "",
      py::arg("quiet") = true);
  m.def("saved_configuration_file", &saved_configuration_file, py::arg("run_directory"));
}

}  // namespace
}  // namespace motornet::python

PYBIND11_MODULE(_engine, m) {
  namespace mp = motornet::python;
  m.doc() = "MotorNet's C++ engine (internal: use the motornet package)";
  // A bad configuration or argument is the caller's mistake: ValueError, with the C++ message (which names the
  // key or argument).
  py::register_exception_translator([](std::exception_ptr error) {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const motornet::InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
  m.def("muscle_types", &motornet::muscle_types);
  m.def("register_python_muscle", &mp::register_python_muscle, py::arg("type"), py::arg("model"));
  m.def("register_python_skeleton", &mp::register_python_skeleton, py::arg("type"), py::arg("model"));
  m.def("skeleton_types", &motornet::skeleton_types);
  m.def("preset_names", &motornet::preset_names);
  mp::bind_effector(m);
  mp::bind_task_environment(m);
  mp::bind_policy_step(m);
  mp::bind_runs(m);
}
