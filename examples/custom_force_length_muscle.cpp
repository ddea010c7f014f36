// A new muscle model in one file, fused without a hand-written derivative: a Hill-type muscle with a rigid
// tendon whose active force-length curve is a Gaussian of adjustable width (instead of Kistemaker's parabola),
// a hyperbolic force-velocity relation and Kistemaker's passive curve.
//
// The model is an equation set: its parameters declared once and its state rows written once as a template over
// the number type. EquationMuscleImpl runs it op by op on tensors (autograd, any device) and its fused kernel
// runs the same template on doubles, with dual numbers for the backward pass. This program registers the model
// under a YAML type name, steps a two-joint arm driven by four such muscles both ways, and checks that states
// and gradients agree (exit status 1 if they do not).
// Run: build/examples/custom_force_length_muscle

#include <motornet/body/equation_muscle.h>
#include <motornet/body/equations/kistemaker_curves.h>
#include <motornet/body/equations/rigid_tendon.h>
#include <motornet/motornet.h>

#include <iostream>

using namespace motornet;

namespace equations = motornet::equations;

struct GaussianHillEquations : equations::RigidTendonEquations<GaussianHillEquations> {
  static constexpr std::array<const char*, 7> kStateNames = {
      "activation", "muscle length", "muscle velocity", "force-length PE", "force-length CE", "force-velocity CE",
      "force"};

  template <class P>
  struct Parameters {
    equations::ActivationParameters<P> activation;
    P max_isometric_force, tendon_length, optimal_muscle_length, normalized_slack_muscle_length, width;
    P slack_length, passive_stiffness, max_velocity;  // derived
  };
  template <class P, class Fields>
  static void fields(Parameters<P>& p, Fields& f) {
    using Range = MuscleParameterSpec::Range;
    equations::activation_fields(p.activation, f, /*min_activation=*/0.001);
    f.given(p.max_isometric_force, {"max_isometric_force", std::nullopt, Range::kPositive});
    f.given(p.tendon_length, {"tendon_length", std::nullopt, Range::kNonNegative});
    f.given(p.optimal_muscle_length, {"optimal_muscle_length", std::nullopt, Range::kPositive});
    f.given(p.normalized_slack_muscle_length, {"normalized_slack_muscle_length", 1.4, Range::kPositive});
    f.given(p.width, {"width", 0.45, Range::kPositive});  // of the force-length curve, in optimal lengths
    f.derived(p.slack_length, "slack_length");
    f.derived(p.passive_stiffness, "passive_stiffness");
    f.derived(p.max_velocity, "max_velocity");
  }
  template <class P>
  static void derive(Parameters<P>& p) {
    p.slack_length = p.normalized_slack_muscle_length * p.optimal_muscle_length;
    p.passive_stiffness = equations::kistemaker::passive_stiffness(p.normalized_slack_muscle_length);
    p.max_velocity = 10.0 * p.optimal_muscle_length;
  }

  template <class T, class P>
  static std::array<T, 7> state(const Parameters<P>& p, const T& a, const T& musculotendon_length,
                                const T& musculotendon_velocity) {
    using namespace equations;  // clamp_min, where, exp, ... for every number type
    auto length = clamp_min(musculotendon_length - p.tendon_length, 0.0);
    auto stretch = (length / p.optimal_muscle_length - 1.0) / p.width;
    auto flce = exp(-stretch * stretch);
    auto flpe = kistemaker::passive_force_length(length, p.slack_length, p.optimal_muscle_length, p.passive_stiffness);
    auto vn = musculotendon_velocity / p.max_velocity;
    // Hill's hyperbola when shortening, saturating at 1.8 F0 when lengthening; each branch sees only velocities
    // of its own sign, so that the branch not taken stays finite on the tensor path.
    auto vs = clamp_max(vn, 0.0), vl = clamp_min(vn, 0.0);
    auto fv = clamp_min(where(vn < 0.0, (1.0 + vs) / (1.0 - 4.0 * vs), 1.8 - 0.8 / (1.0 + 5.0 * vl)), 0.0);
    auto force = (a * flce * fv + flpe) * p.max_isometric_force;
    return {a, length, musculotendon_velocity, flpe, flce, fv, force};
  }

  template <class P>
  static P proprioceptive_length_scale(const Parameters<P>& p) {
    return p.optimal_muscle_length;
  }
  template <class P>
  static P proprioceptive_velocity_scale(const Parameters<P>& p) {
    return p.max_velocity;
  }
};

class GaussianHillMuscleImpl : public EquationMuscleImpl<GaussianHillEquations> {
 public:
  using EquationMuscleImpl::EquationMuscleImpl;
  std::string type_name() const override { return "GaussianHillMuscle"; }
};

// Four muscles on a two-joint arm: shoulder and elbow flexor/extensor pairs, one of them biarticular.
Effector make_arm(KernelChoice kernels) {
  Effector effector(std::make_shared<TwoDofArmImpl>(), make_muscle("GaussianHillMuscle", {{"width", 0.5}}),
                    EffectorOptions().kernels(kernels));
  MuscleParameters p{{"max_isometric_force", 500}, {"tendon_length", 0.05}, {"optimal_muscle_length", 0.1}};
  effector->add_muscle({{0, 1}, {{-0.05, 0.0}, {0.1, 0.02}}}, {"shoulder_flexor", p, ""});
  effector->add_muscle({{0, 1}, {{0.05, -0.03}, {0.1, -0.02}}}, {"shoulder_extensor", p, ""});
  effector->add_muscle({{1, 2}, {{0.2, 0.02}, {0.05, 0.015}}}, {"elbow_flexor", p, ""});
  effector->add_muscle({{0, 2}, {{0.0, -0.05}, {-0.03, -0.01}}}, {"biarticular_extensor", p, ""});
  effector->to(torch::kFloat64);
  return effector;
}

// 50 steps from a fixed posture under random excitations: the fingertip path and d(loss)/d(excitations).
std::pair<torch::Tensor, torch::Tensor> run(KernelChoice kernels) {
  auto effector = make_arm(kernels);
  torch::manual_seed(3);
  auto actions = torch::rand({50, 8, 4}, torch::kFloat64).requires_grad_(true);
  auto state = effector->reset(8, torch::tensor({{0.8, 1.2}}, torch::kFloat64));
  std::vector<torch::Tensor> path;
  for (int64_t t = 0; t < 50; ++t) {
    state = effector->step(state, actions[t]);
    path.push_back(state.fingertip());
  }
  auto trajectory = torch::stack(path);
  auto loss = (trajectory - torch::tensor({0.1, 0.4}, torch::kFloat64)).pow(2).sum();
  return {trajectory.detach(), torch::autograd::grad({loss}, {actions})[0]};
}

int main() {
  register_muscle_type("GaussianHillMuscle", [](MuscleParameters shared, const std::string& config_path) -> Muscle {
    return std::make_shared<GaussianHillMuscleImpl>(std::move(shared), config_path);
  });
  try {
    const bool fused = make_arm(KernelChoice::kFused)->uses_fused_kernels();
    auto [fused_path, fused_gradient] = run(KernelChoice::kFused);
    auto [reference_path, reference_gradient] = run(KernelChoice::kOpByOp);
    const double path_error = (fused_path - reference_path).abs().max().item<double>();
    const double gradient_error = (fused_gradient - reference_gradient).abs().max().item<double>() /
                                  reference_gradient.abs().max().item<double>();
    std::cout << "GaussianHillMuscle arm, 50 steps: fused kernels " << (fused ? "used" : "NOT used")
              << "; fingertip after 0.5 s (" << fused_path[-1][0][0].item<double>() << ", "
              << fused_path[-1][0][1].item<double>() << ") m; fused vs op by op: path "
              << path_error << " m, gradient " << gradient_error << " (relative)\n";
    return fused && path_error < 1e-9 && gradient_error < 1e-9 ? 0 : 1;
  } catch (const InputError& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 2;
  }
}
