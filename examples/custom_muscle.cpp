// A user-defined muscle model, registered under a YAML `type:` name and used from a scenario like the built-in
// ones. The model: a ReLU-like contractile force plus a linear passive spring beyond a rest length,
//   force = F0 (a + stiffness max(L_mt - rest_length, 0)).
// Run: build/examples/custom_muscle

#include <motornet/motornet.h>

#include <iostream>

using namespace motornet;

class SpringyMuscleImpl : public MuscleImpl {
 public:
  using MuscleImpl::MuscleImpl;

  std::string type_name() const override { return "SpringyMuscle"; }
  std::vector<std::string> state_names() const override {
    return {"activation", "muscle length", "muscle velocity", "force"};
  }
  std::vector<MuscleParameterSpec> parameter_specs() const override {
    auto specs = activation_parameter_specs(/*min_activation=*/0.0);
    specs.push_back({"max_isometric_force", std::nullopt, MuscleParameterSpec::Range::kPositive});
    specs.push_back({"rest_length", std::nullopt, MuscleParameterSpec::Range::kNonNegative});
    specs.push_back({"stiffness", 1.0, MuscleParameterSpec::Range::kNonNegative});  // per metre, in units of F0
    return specs;
  }
  torch::Tensor ode(const torch::Tensor& excitation, const torch::Tensor& muscle_state) const override {
    return activation_derivative(excitation, muscle_state.select(1, 0)).unsqueeze(1);
  }
  torch::Tensor integrate(double h, const torch::Tensor& derivative, const torch::Tensor& muscle_state,
                          const torch::Tensor& geometry_state) const override {
    auto activation = integrate_activation(h, derivative, muscle_state);
    auto length = geometry_state.select(1, 0);
    auto stretch = (length - parameter("rest_length")).clamp_min(0.0);
    auto force = parameter("max_isometric_force") * (activation + parameter("stiffness") * stretch);
    return stack_rows({activation, length, geometry_state.select(1, 1), force});
  }
  torch::Tensor proprioceptive_length_scale() const override { return parameter("rest_length"); }
  torch::Tensor proprioceptive_velocity_scale() const override { return torch::ones_like(parameter("rest_length")); }
};

int main() {
  register_muscle_type("SpringyMuscle", [](MuscleParameters shared, const std::string& config_path) -> Muscle {
    return std::make_shared<SpringyMuscleImpl>(std::move(shared), config_path);
  });

  const char* scenario_yaml = R"(
name: springy_point_mass
effector:
  skeleton: {type: PointMass, space_dim: 2, mass: 1.0}
  muscle: {type: SpringyMuscle, max_isometric_force: 20, rest_length: 1.5}
  muscles:
    - {name: right, fixation_body: [0, 1], coordinates: [[2, 0], [0, 0]]}
    - {name: left, fixation_body: [0, 1], coordinates: [[-2, 0], [0, 0]], stiffness: 0.5}
  timestep: 0.01
initial_joint_state: [0.0, 0.0, 0.0, 0.0]
actions: {steps: 50, value: [0.5, 0.0]}
objective: {fingertip_weights: [1.0, 0.0]}
)";
  try {
    auto scenario = scenario_from_config(ConfigNode::parse(scenario_yaml, "custom_muscle.yaml"));
    auto result = run_scenario(scenario);
    auto final_x = result.cartesian[-1][0].item<double>();
    std::cout << "SpringyMuscle point mass after 0.5 s: x = " << final_x << " m, dJ/da_right(t=0) = "
              << result.grad_actions[0][0].item<double>() << "\n";
    // The active right muscle (with its spring) outpulls the softer passive left spring: the mass moves to +x.
    return final_x > 0.0 ? 0 : 1;
  } catch (const InputError& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 2;
  }
}
