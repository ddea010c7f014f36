// External oracle: MuJoCo 2.2.2 (Debian's libmujoco-dev) computes the muscle curves of MujocoHillMuscle
// (mju_muscleGain, mju_muscleBias, mju_muscleDynamics) and, from a two-link MJCF model, the arm's mass matrix,
// velocity-dependent forces and endpoint kinematics. MuJoCo's length curve below lmin is wrong in 2.2.2 (SPEC
// §5.4), so lengths start at lmin.

#include <gtest/gtest.h>
#include <mujoco/mujoco.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "motornet/motornet.h"
#include "test_support.h"

namespace motornet {
namespace {

TEST(MujocoOracle, MuscleGainBiasAndActivationDynamics) {
  const double F0 = 100.0, l_se = 0.1, l_ce = 0.2;
  MujocoHillMuscleImpl muscle;
  muscle.build({{"m", {{"max_isometric_force", F0}, {"tendon_length", l_se}, {"optimal_muscle_length", l_ce}}, ""}},
               0.01);
  muscle.to(torch::kFloat64);
  // MuJoCo normalises length as range[0] + (len - lengthrange[0]) / L0 with L0 = span(lengthrange)/span(range):
  // choose lengthrange so that L0 = l_ce and L = (len - l_se) / l_ce, as the SPEC.
  const double range0 = 0.75, range1 = 1.05;
  const double lengthrange[2] = {l_se + range0 * l_ce, l_se + range1 * l_ce};
  const double prm[9] = {range0, range1, F0, 200.0, 0.5, 1.6, 1.5, 1.3, 1.2};

  std::vector<double> lengths, velocities;
  for (double L = 0.5; L <= 1.85; L += 0.0125)
    for (double V = -1.3; V <= 1.4; V += 0.05) {
      lengths.push_back(l_se + L * l_ce);
      velocities.push_back(V * l_ce * 1.5);
    }
  const int64_t n = static_cast<int64_t>(lengths.size());
  auto geometry = torch::zeros({n, 3, 1}, torch::kFloat64);
  geometry.select(1, 0).select(1, 0).copy_(torch::tensor(lengths, torch::kFloat64));
  geometry.select(1, 1).select(1, 0).copy_(torch::tensor(velocities, torch::kFloat64));
  auto state = torch::zeros({n, 7, 1}, torch::kFloat64);
  state.select(1, 0).fill_(1.0);  // full activation: force = F0 (flce fv + flpe)
  auto result = muscle.integrate(0.01, torch::zeros({n, 1, 1}, torch::kFloat64), state, geometry);
  auto gain = (result.select(1, 4) * result.select(1, 5) * F0).squeeze(1);
  auto bias = (result.select(1, 3) * F0).squeeze(1);

  std::vector<double> mujoco_gain(n), mujoco_bias(n);
  for (int64_t i = 0; i < n; ++i) {
    mujoco_gain[i] = -mju_muscleGain(lengths[i], velocities[i], lengthrange, 1.0, prm);
    mujoco_bias[i] = -mju_muscleBias(lengths[i], lengthrange, 1.0, prm);
  }
  EXPECT_WITHIN(gain, torch::tensor(mujoco_gain, torch::kFloat64), 1e-9, 1e-9, "active force");
  EXPECT_WITHIN(bias, torch::tensor(mujoco_bias, torch::kFloat64), 1e-9, 1e-9, "passive force");

  std::vector<double> excitation, activation, mujoco_rate;
  const double time_constants[2] = {0.01, 0.04};
  for (double u = 0.0; u <= 1.0; u += 0.1)
    for (double a = 0.0; a <= 1.0; a += 0.07) {
      excitation.push_back(u);
      activation.push_back(a);
      mujoco_rate.push_back(mju_muscleDynamics(u, a, time_constants));
    }
  const int64_t m = static_cast<int64_t>(excitation.size());
  auto activation_state = torch::zeros({m, 7, 1}, torch::kFloat64);
  activation_state.select(1, 0).select(1, 0).copy_(torch::tensor(activation, torch::kFloat64));
  auto rate = muscle.ode(torch::tensor(excitation, torch::kFloat64).unsqueeze(1), activation_state).flatten();
  EXPECT_WITHIN(rate, torch::tensor(mujoco_rate, torch::kFloat64), 1e-9, 1e-9, "activation rate");
}

TEST(MujocoOracle, TwoDofArmDynamicsAndKinematics) {
  TwoDofArmOptions o = TwoDofArmOptions().m1(1.82).m2(1.43).l1g(0.135).l2g(0.165).i1(0.051).i2(0.057).l1(0.309).l2(0.333);
  char xml[2048];
  std::snprintf(xml, sizeof xml, R"(<mujoco>
  <compiler angle="radian" inertiafromgeom="false"/>
  <option gravity="0 0 0"/>
  <worldbody>
    <body name="upper_arm">
      <joint name="shoulder" type="hinge" axis="0 0 1"/>
      <inertial pos="%.17g 0 0" mass="%.17g" diaginertia="%.17g %.17g %.17g"/>
      <body name="forearm" pos="%.17g 0 0">
        <joint name="elbow" type="hinge" axis="0 0 1"/>
        <inertial pos="%.17g 0 0" mass="%.17g" diaginertia="%.17g %.17g %.17g"/>
        <site name="fingertip" pos="%.17g 0 0"/>
      </body>
    </body>
  </worldbody>
</mujoco>)",
                o.l1g(), o.m1(), o.i1(), o.i1(), o.i1(), o.l1(), o.l2g(), o.m2(), o.i2(), o.i2(), o.i2(), o.l2());
  auto path = std::filesystem::temp_directory_path() / ("motornet_arm_" + std::to_string(::getpid()) + ".xml");
  std::ofstream(path) << xml;
  char error[1000] = "";
  mjModel* model = mj_loadXML(path.c_str(), nullptr, error, sizeof error);
  std::filesystem::remove(path);
  ASSERT_NE(model, nullptr) << error;
  mjData* data = mj_makeData(model);

  auto arm = std::make_shared<TwoDofArmImpl>(o);
  arm->to(torch::kFloat64);
  const std::vector<std::array<double, 4>> postures = {
      {0.3, 0.5, 0.0, 0.0}, {0.8, 1.2, 1.5, -2.0}, {1.4, 2.1, -3.0, 4.0}, {2.0, 0.1, 0.7, 0.2}};
  for (const auto& p : postures) {
    data->qpos[0] = p[0];
    data->qpos[1] = p[1];
    data->qvel[0] = p[2];
    data->qvel[1] = p[3];
    mj_forward(model, data);
    double mass[4];
    mj_fullM(model, mass, data->qM);
    double jacobian[6];
    mj_jacSite(model, data, jacobian, nullptr, 0);

    auto joint = torch::tensor({{p[0], p[1], p[2], p[3]}}, torch::kFloat64);
    auto zero = torch::zeros({1, 2}, torch::kFloat64);
    // acc = M^-1 (tau - c): tau = 0 gives -M^-1 c; unit torques give the columns of M^-1.
    auto mass_matrix = torch::tensor({{mass[0], mass[1]}, {mass[2], mass[3]}}, torch::kFloat64);
    auto bias = torch::tensor({data->qfrc_bias[0], data->qfrc_bias[1]}, torch::kFloat64);
    auto expected_free = -torch::linalg_solve(mass_matrix, bias);
    EXPECT_WITHIN(arm->ode(zero, joint, zero)[0], expected_free, 1e-9, 1e-9, "free acceleration");
    auto at_rest = joint.clone();
    at_rest.narrow(1, 2, 2).zero_();
    auto inverse = torch::linalg_inv(mass_matrix);
    for (int64_t d = 0; d < 2; ++d) {
      auto torque = torch::zeros({1, 2}, torch::kFloat64);
      torque[0][d] = 1.0;
      EXPECT_WITHIN(arm->ode(torque, at_rest, zero)[0], inverse.select(1, d), 1e-9, 1e-9, "inverse mass matrix");
    }
    auto cartesian = arm->joint_to_cartesian(joint)[0];
    auto site = torch::tensor({data->site_xpos[0], data->site_xpos[1]}, torch::kFloat64);
    EXPECT_WITHIN(cartesian.narrow(0, 0, 2), site, 1e-12, 1e-12, "fingertip position");
    auto site_velocity = torch::tensor({jacobian[0] * p[2] + jacobian[1] * p[3], jacobian[2] * p[2] + jacobian[3] * p[3]},
                                       torch::kFloat64);
    EXPECT_WITHIN(cartesian.narrow(0, 2, 2), site_velocity, 1e-12, 1e-12, "fingertip velocity");
  }
  mj_deleteData(data);
  mj_deleteModel(model);
}

}  // namespace
}  // namespace motornet
