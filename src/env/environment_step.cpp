#include "env/environment_step.h"

#include <ATen/Parallel.h>

#include "body/fused/absent_input.h"
#include "body/fused/lane_block.h"
#include "body/fused/row_io.h"
#include "body/fused/sense_rows.h"

namespace motornet::fused {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int64_t kRowsPerTask = 64;  // rows below which threading costs more than it saves (as the effector's)

// The node's tensor inputs, one list (absent ones as the shared empty tensor), the earlier frames last.
enum Slot : size_t {
  kJoint, kMuscle, kGeometry, kCartesian, kAction, kEndpointLoad, kActionDraws, kScale, kVisionDraws,
  kProprioDraws, kDelayedVision, kDelayedProprio, kObservationDraws, kTaskInputs, kFirstFrame
};

struct PlanHolder : torch::CustomClassHolder {
  PlanHolder(std::shared_ptr<const EnvironmentStepPlan> p, std::shared_ptr<const StepKernels> k, int64_t s,
             int64_t i)
      : plan(std::move(p)), kernels(std::move(k)), step(s), task_inputs(i) {}
  std::shared_ptr<const EnvironmentStepPlan> plan;
  std::shared_ptr<const StepKernels> kernels;
  int64_t step;
  int64_t task_inputs;  // the observation's first columns
};

// Where each output sits in the node's list; outputs a configuration does not have are not returned (a custom
// function cannot return undefined tensors).
struct OutputSlots {
  OutputSlots(const EnvironmentStepPlan& plan, int64_t step) {
    int64_t next = 5;  // joint, cartesian, muscle, geometry, observation
    const auto take = [&next](bool present) { return present ? next++ : -1; };
    clean = take(!plan.observation_sigma.empty());
    noisy_action = take(plan.action_sigma != 0.0);
    vision = take(plan.vision_lag > 1);
    proprio = take(plan.proprioception_lag > 1);
    n_fields = plan.fields && plan.fields->any_on(step) ? plan.fields->n_fields() + 1 : 0;
    first_field = next;
    count = next + n_fields;
  }
  static constexpr int64_t kObservation = 4;
  int64_t clean, noisy_action, vision, proprio, first_field, n_fields, count;
};

bool present(const torch::Tensor& t) { return t.defined() && t.numel() > 0; }

// The observation's column blocks.
struct ObservationColumns {
  ObservationColumns(int64_t inputs, const RowLayout& layout, int64_t n_frames)
      : I(inputs),
        vision(inputs),
        proprio(inputs + layout.S),
        frames(inputs + layout.S + 2 * layout.M),
        width(inputs + layout.S + 2 * layout.M + n_frames * layout.M) {}
  int64_t I, vision, proprio, frames, width;
};

// The rows of a [B, n] tensor (any strides), copied out without conversion. The pointer and strides are read
// once, outside the row loop.
template <typename T>
struct RowSource {
  RowSource() = default;
  explicit RowSource(const torch::Tensor& t)
      : data(t.data_ptr<T>()), width(t.size(1)), row_stride(t.stride(0)), column_stride(t.stride(1)) {}
  void copy(int64_t b, T* out) const {
    const T* row = data + b * row_stride;
    for (int64_t i = 0; i < width; ++i) out[i] = row[i * column_stride];
  }
  const T* data = nullptr;
  int64_t width = 0, row_stride = 0, column_stride = 0;
};

// The action the effector receives: the given one plus sigma times the draw, in T as the op-by-op sum rounds.
template <typename T>
struct NoisyActionRows {
  NoisyActionRows(const torch::Tensor& action, const torch::Tensor& draws, double sigma)
      : given(action), draws(present(draws) ? draws.data_ptr<T>() : nullptr), sigma(static_cast<T>(sigma)) {}
  T at(int64_t b, int64_t j) const {
    const T value = given.data[b * given.row_stride + j * given.column_stride];
    return draws ? value + draws[b * given.width + j] * sigma : value;
  }
  Rows<T> given;
  const T* draws;
  T sigma;
};

// The step's load on the hand, row by row: the fused fields' sum ([B * S], computed for the whole batch), or a
// load computed outside (fields op by op), or none.
template <typename T>
struct StepLoad {
  StepLoad(int64_t space_dim, std::vector<double> field_sum, const torch::Tensor& endpoint_load)
      : S(space_dim), fields(std::move(field_sum)), outside(endpoint_load) {}
  // Row b's load (`scratch` holds S values where it must be read), or nullptr.
  const double* row(int64_t b, double* scratch) const {
    if (!fields.empty()) return fields.data() + b * S;
    if (!outside.data) return nullptr;
    outside.read(b, scratch);
    return scratch;
  }
  // Whether the step has a load (for every row alike).
  bool present() const { return !fields.empty() || outside.data != nullptr; }
  // Row b's load copied into `out` [S] (where present()).
  void copy(int64_t b, double* out) const {
    const double* load = row(b, out);
    if (load != out) std::copy(load, load + S, out);
  }
  int64_t S;
  std::vector<double> fields;
  Rows<T> outside;
};

class FusedEnvironmentStep : public torch::autograd::Function<FusedEnvironmentStep> {
 public:
  static variable_list forward(AutogradContext* ctx, torch::TensorList inputs, c10::intrusive_ptr<PlanHolder> holder) {
    const auto& plan = *holder->plan;
    const int64_t step = holder->step;
    const OutputSlots slots(plan, step);
    const RowLayout layout(*holder->kernels);
    const bool lanes = has_row_lanes(*holder->kernels);  // blocks of rows at once where every kernel can
    const int64_t S = layout.S, M = layout.M;
    const auto joint = inputs[kJoint].contiguous(), muscle = inputs[kMuscle].contiguous(),
               geometry = inputs[kGeometry].contiguous();
    const auto& cartesian_in = inputs[kCartesian];
    const auto& action = inputs[kAction];
    const auto endpoint_load = present(inputs[kEndpointLoad]) ? inputs[kEndpointLoad] : torch::Tensor();
    // Kept here: the row readers below hold raw pointers into these.
    const auto action_draws = inputs[kActionDraws].contiguous(), scale = inputs[kScale].contiguous(),
               vision_draws = inputs[kVisionDraws].contiguous(), proprio_draws = inputs[kProprioDraws].contiguous();
    const auto& task_inputs = inputs[kTaskInputs];
    const int64_t B = joint.size(0);
    const ObservationColumns columns(holder->task_inputs, layout, plan.action_frames);
    const int64_t W = columns.width;
    ctx->save_for_backward({joint, muscle, geometry, slots.n_fields ? cartesian_in : absent_input(), action,
                            endpoint_load.defined() ? endpoint_load : absent_input(), action_draws, scale});
    ctx->saved_data["plan"] = c10::IValue::make_capsule(holder);
    ctx->set_materialize_grads(false);

    const auto options = joint.options();
    variable_list out(slots.count);
    out[0] = torch::empty_like(joint);
    out[1] = torch::empty({B, 2 * S}, options);
    out[2] = torch::empty_like(muscle);
    out[3] = torch::empty_like(geometry);
    out[OutputSlots::kObservation] = torch::empty({B, W}, options);
    const auto& clean = slots.clean >= 0 ? (out[slots.clean] = torch::empty({B, W}, options))
                                         : out[OutputSlots::kObservation];
    if (slots.noisy_action >= 0) out[slots.noisy_action] = torch::empty({B, M}, options);
    if (slots.vision >= 0) out[slots.vision] = torch::empty({B, S}, options);
    if (slots.proprio >= 0) out[slots.proprio] = torch::empty({B, 2 * M}, options);
    for (int64_t f = 0; f < slots.n_fields; ++f) out[slots.first_field + f] = torch::empty({B, S}, options);

    AT_DISPATCH_FLOATING_TYPES(joint.scalar_type(), "fused_environment_step", [&] {
      using T = scalar_t;
      // The fields' forces for the whole batch first; the step reads their sum as its load, rounded to T as the
      // forces' tensors are.
      const StepLoad<T> loads(
          S, slots.n_fields ? field_forces<T>(plan, step, cartesian_in, out, slots.first_field) : std::vector<double>(),
          endpoint_load);
      const NoisyActionRows<T> noisy(action, action_draws, plan.action_sigma);
      T* noisy_out = slots.noisy_action >= 0 ? out[slots.noisy_action].data_ptr<T>() : nullptr;
      const StageRows<T> stage_in(joint, muscle, geometry, layout), stage_out(out[0], out[2], out[3], layout);
      const Rows<T> cartesian_out(out[1]);
      T* clean_data = clean.data_ptr<T>();
      T* observed = out[OutputSlots::kObservation].data_ptr<T>();
      // This step's senses go into the observation where they are observed now, else to their own outputs.
      SenseColumns<T> senses;
      if (slots.vision >= 0) senses.vision = out[slots.vision].data_ptr<T>(), senses.vision_stride = S;
      else senses.vision = clean_data + columns.vision, senses.vision_stride = W;
      if (slots.proprio >= 0) senses.proprio = out[slots.proprio].data_ptr<T>(), senses.proprio_stride = 2 * M;
      else senses.proprio = clean_data + columns.proprio, senses.proprio_stride = W;
      const SenseRows<T> sense(plan.senses, layout, scale, vision_draws, proprio_draws);
      const auto observation_draws = inputs[kObservationDraws].contiguous();
      const T* obs_draws = present(observation_draws) ? observation_draws.data_ptr<T>() : nullptr;
      std::vector<T> obs_sigma(plan.observation_sigma.begin(), plan.observation_sigma.end());
      const int64_t noise_width = static_cast<int64_t>(obs_sigma.size());
      const int64_t n_earlier = plan.action_frames > 0 ? plan.action_frames - 1 : 0;
      // What the observation copies from elsewhere: the task's inputs, the delayed senses, the earlier actions.
      const RowSource<T> task_rows(task_inputs);
      RowSource<T> delayed_vision, delayed_proprio;
      if (slots.vision >= 0) delayed_vision = RowSource<T>(inputs[kDelayedVision]);
      if (slots.proprio >= 0) delayed_proprio = RowSource<T>(inputs[kDelayedProprio]);
      std::vector<RowSource<T>> earlier_frames;
      for (int64_t f = 0; f < n_earlier; ++f) earlier_frames.emplace_back(inputs[kFirstFrame + f]);

      // Row b's inputs: its stage and the action its effector receives (written where it is also an output).
      const auto prepare = [&](int64_t b, double* stage, double* act) {
        stage_in.read(b, stage);
        T* newest_frame = plan.action_frames > 0 ? clean_data + b * W + columns.frames + n_earlier * M : nullptr;
        for (int64_t j = 0; j < M; ++j) {
          const T value = noisy.at(b, j);
          act[j] = static_cast<double>(value);
          if (noisy_out) noisy_out[b * M + j] = value;
          if (newest_frame) newest_frame[j] = value;
        }
      };
      // Row b's outputs from its next stage and hand state.
      const auto finish = [&](int64_t b, const double* next, const double* cart) {
        T* row = clean_data + b * W;
        stage_out.write(b, next);
        cartesian_out.write(b, cart);
        sense.forward(b, cart, next + layout.muscle, senses);
        task_rows.copy(b, row);
        if (slots.vision >= 0) delayed_vision.copy(b, row + columns.vision);
        if (slots.proprio >= 0) delayed_proprio.copy(b, row + columns.proprio);
        for (int64_t f = 0; f < n_earlier; ++f) earlier_frames[f].copy(b, row + columns.frames + f * M);
        if (obs_draws) {  // value + sigma * draw over the noisy columns, as the op-by-op observation adds it
          T* noisy_row = observed + b * W;
          std::copy(row, row + W, noisy_row);
          const T* draw = obs_draws + b * noise_width;
          for (int64_t c = 0; c < noise_width; ++c)
            noisy_row[plan.noise_column + c] = row[plan.noise_column + c] + draw[c] * obs_sigma[c];
        }
      };

      const bool loaded = loads.present();
      at::parallel_for(0, B, kRowsPerTask, [&](int64_t begin, int64_t end) {
        if (!lanes) {
          // One allocation for the row's scratch (this runs once per step, for a few dozen rows).
          std::vector<double> scratch(2 * layout.stage + M + 3 * S);
          double *stage = scratch.data(), *next = stage + layout.stage, *act = next + layout.stage, *load = act + M,
                 *cart = load + S;
          RowStep row_step(*holder->kernels);
          for (int64_t b = begin; b < end; ++b) {
            prepare(b, stage, act);
            row_step.forward({stage, act, loads.row(b, load), nullptr}, next, cart);
            finish(b, next, cart);
          }
          return;
        }
        // Each input and output as kRowLanes rows, then as a block.
        RowLaneStep block_step(*holder->kernels);
        const int64_t width = 2 * layout.stage + M + 3 * S;
        std::vector<double> rows(kRowLanes * width);
        double *stages = rows.data(), *nexts = stages + kRowLanes * layout.stage, *acts = nexts + kRowLanes * layout.stage,
               *row_loads = acts + kRowLanes * M, *carts = row_loads + kRowLanes * S;
        std::vector<RowLanes> block(width);
        RowLanes *stage_l = block.data(), *next_l = stage_l + layout.stage, *act_l = next_l + layout.stage,
                 *load_l = act_l + M, *cart_l = load_l + S;
        for_each_block(begin, end, [&](int64_t first, int n) {
          for (int l = 0; l < kRowLanes; ++l) {
            const int64_t b = block_row(first, n, l);
            prepare(b, stages + l * layout.stage, acts + l * M);
            if (loaded) loads.copy(b, row_loads + l * S);
          }
          rows_to_block(stages, layout.stage, stage_l);
          rows_to_block(acts, M, act_l);
          if (loaded) rows_to_block(row_loads, S, load_l);
          block_step.forward({stage_l, act_l, loaded ? load_l : nullptr, nullptr}, next_l, cart_l);
          block_to_rows(next_l, layout.stage, nexts);
          block_to_rows(cart_l, 2 * S, carts);
          for (int l = 0; l < n; ++l) finish(first + l, nexts + l * layout.stage, carts + l * 2 * S);
        });
      });
    });
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    // The backward is plain arithmetic, not itself differentiable: refuse rather than return zero second
    // derivatives.
    TORCH_CHECK(!torch::GradMode::is_enabled(),
                "the fused environment step has no double backward (create_graph); use effector kernels: op-by-op");
    const auto saved = ctx->get_saved_variables();
    const auto &joint = saved[0], &muscle = saved[1], &geometry = saved[2], &cartesian_in = saved[3],
               &action = saved[4], &action_draws = saved[6], &scale = saved[7];
    const auto endpoint_load = present(saved[5]) ? saved[5] : torch::Tensor();
    auto capsule = ctx->saved_data["plan"].toCapsule();
    const auto* holder = static_cast<PlanHolder*>(capsule.get());
    const auto& plan = *holder->plan;
    const int64_t step = holder->step;
    const OutputSlots slots(plan, step);
    const RowLayout layout(*holder->kernels);
    const bool lanes = has_row_lanes(*holder->kernels);  // blocks of rows at once where every kernel can
    const int64_t S = layout.S, M = layout.M, B = joint.size(0);
    const ObservationColumns columns(holder->task_inputs, layout, plan.action_frames);
    const int64_t W = columns.width;
    const int64_t n_earlier = plan.action_frames > 0 ? plan.action_frames - 1 : 0;
    const auto contiguous = [](const torch::Tensor& t) { return t.defined() ? t.contiguous() : t; };

    // The observation's gradient (the noisy and the clean one reach the same values: the noise is added).
    auto grad_observation = contiguous(grads[OutputSlots::kObservation]);
    if (slots.clean >= 0 && grads[slots.clean].defined())
      grad_observation = grad_observation.defined() ? grad_observation + grads[slots.clean]
                                                    : grads[slots.clean].contiguous();
    const auto grad_noisy = slots.noisy_action >= 0 ? grads[slots.noisy_action] : torch::Tensor();
    // The 3-D gradients are read as flat rows (the row readers keep raw pointers: these must outlive them).
    const auto grad_next_muscle = contiguous(grads[2]), grad_next_geometry = contiguous(grads[3]);
    const auto grad_vision = slots.vision >= 0 ? contiguous(grads[slots.vision]) : torch::Tensor();
    const auto grad_proprio = slots.proprio >= 0 ? contiguous(grads[slots.proprio]) : torch::Tensor();

    variable_list result(kFirstFrame + n_earlier + 1);  // every input, then the holder
    auto& grad_joint = result[kJoint] = torch::empty_like(joint);
    auto& grad_muscle = result[kMuscle] = torch::empty_like(muscle);
    auto& grad_geometry = result[kGeometry] = torch::empty_like(geometry);
    auto& grad_action = result[kAction] = torch::empty({B, M}, joint.options());
    if (endpoint_load.defined()) result[kEndpointLoad] = torch::empty({B, S}, joint.options());
    std::vector<double> load_grad(slots.n_fields ? B * S : 0);  // the fused fields' sum, gathered for their backward

    AT_DISPATCH_FLOATING_TYPES(joint.scalar_type(), "fused_environment_step_backward", [&] {
      using T = scalar_t;
      const StepLoad<T> loads(
          S, slots.n_fields ? field_forces<T>(plan, step, cartesian_in, {}, -1) : std::vector<double>(), endpoint_load);
      const Rows<T> load_grad_rows(result[kEndpointLoad]);
      const NoisyActionRows<T> noisy(action, action_draws, plan.action_sigma);
      const StageRows<T> stage_in(joint, muscle, geometry, layout);
      const StageRows<T> grad_out(grads[0], grad_next_muscle, grad_next_geometry, layout),
          grad_in(grad_joint, grad_muscle, grad_geometry, layout);
      const Rows<T> grad_cartesian_out(grads[1], 2 * S), grad_noisy_rows(grad_noisy, M), grad_action_rows(grad_action);
      const T* grad_obs = grad_observation.defined() ? grad_observation.data_ptr<T>() : nullptr;
      // Each sense's gradient: from the observation where it is observed now, else from its own output.
      SenseColumns<const T> sense_grad;
      if (slots.vision < 0 && grad_obs) sense_grad.vision = grad_obs + columns.vision, sense_grad.vision_stride = W;
      if (grad_vision.defined()) sense_grad.vision = grad_vision.data_ptr<T>(), sense_grad.vision_stride = S;
      if (slots.proprio < 0 && grad_obs) sense_grad.proprio = grad_obs + columns.proprio, sense_grad.proprio_stride = W;
      if (grad_proprio.defined()) sense_grad.proprio = grad_proprio.data_ptr<T>(), sense_grad.proprio_stride = 2 * M;
      const SenseRows<T> sense(plan.senses, layout, scale, absent_input(), absent_input());

      // Row b's inputs: its stage and action, and the gradients of its next stage and hand state.
      const auto prepare = [&](int64_t b, double* stage, double* act, double* grad_next, double* grad_c) {
        grad_out.read(b, grad_next);
        grad_cartesian_out.read(b, grad_c);
        sense.backward(b, sense_grad, grad_c, grad_next + layout.muscle);
        stage_in.read(b, stage);
        for (int64_t j = 0; j < M; ++j) act[j] = static_cast<double>(noisy.at(b, j));
      };
      // Row b's gradients from the step's; `grad_a` is extended in place.
      const auto finish = [&](int64_t b, const double* grad_stage, double* grad_a, const double* grad_e,
                              double* grad_n) {
        grad_in.write(b, grad_stage);
        // The noisy action reaches the step, its own output and the newest frame; the given action gets it all.
        grad_noisy_rows.read(b, grad_n);
        const T* newest = grad_obs && plan.action_frames > 0 ? grad_obs + b * W + columns.frames + n_earlier * M
                                                             : nullptr;
        for (int64_t j = 0; j < M; ++j) grad_a[j] += grad_n[j] + (newest ? static_cast<double>(newest[j]) : 0.0);
        grad_action_rows.write(b, grad_a);
        load_grad_rows.write(b, grad_e);
        if (slots.n_fields) std::copy(grad_e, grad_e + S, load_grad.begin() + b * S);
      };

      const bool loaded = loads.present();
      at::parallel_for(0, B, kRowsPerTask, [&](int64_t begin, int64_t end) {
        const auto& L = layout;
        std::vector<double> scratch(3 * L.stage + 3 * M + 4 * S + L.D);  // one allocation for the rows' scratch
        double *stage = scratch.data(), *grad_next = stage + L.stage, *grad_stage = grad_next + L.stage,
               *act = grad_stage + L.stage, *grad_a = act + M, *grad_n = grad_a + M, *load = grad_n + M,
               *grad_e = load + S, *grad_c = grad_e + S, *grad_j = grad_c + 2 * S;
        if (!lanes) {
          RowStep row_step(*holder->kernels);
          for (int64_t b = begin; b < end; ++b) {
            prepare(b, stage, act, grad_next, grad_c);
            row_step.backward({stage, act, loads.row(b, load), nullptr}, grad_next, grad_c, grad_stage, grad_a,
                              grad_e, grad_j);
            finish(b, grad_stage, grad_a, grad_e, grad_n);
          }
          return;
        }
        // Each input and output as kRowLanes rows, then as a block.
        RowLaneStep block_step(*holder->kernels);
        const int64_t width = 3 * L.stage + 2 * M + 4 * S + L.D;
        std::vector<double> rows(kRowLanes * width);
        double *stages = rows.data(), *grad_nexts = stages + kRowLanes * L.stage,
               *grad_stages = grad_nexts + kRowLanes * L.stage, *acts = grad_stages + kRowLanes * L.stage,
               *grad_as = acts + kRowLanes * M, *row_loads = grad_as + kRowLanes * M,
               *grad_es = row_loads + kRowLanes * S, *grad_cs = grad_es + kRowLanes * S;
        std::vector<RowLanes> block(width);
        RowLanes *stage_l = block.data(), *grad_next_l = stage_l + L.stage, *grad_stage_l = grad_next_l + L.stage,
                 *act_l = grad_stage_l + L.stage, *grad_a_l = act_l + M, *load_l = grad_a_l + M,
                 *grad_e_l = load_l + S, *grad_c_l = grad_e_l + S, *grad_j_l = grad_c_l + 2 * S;
        for_each_block(begin, end, [&](int64_t first, int n) {
          for (int l = 0; l < kRowLanes; ++l) {
            const int64_t b = block_row(first, n, l);
            prepare(b, stages + l * L.stage, acts + l * M, grad_nexts + l * L.stage, grad_cs + l * 2 * S);
            if (loaded) loads.copy(b, row_loads + l * S);
          }
          rows_to_block(stages, L.stage, stage_l);
          rows_to_block(acts, M, act_l);
          rows_to_block(grad_nexts, L.stage, grad_next_l);
          rows_to_block(grad_cs, 2 * S, grad_c_l);
          if (loaded) rows_to_block(row_loads, S, load_l);
          block_step.backward({stage_l, act_l, loaded ? load_l : nullptr, nullptr}, grad_next_l, grad_c_l,
                              grad_stage_l, grad_a_l, grad_e_l, grad_j_l);
          block_to_rows(grad_stage_l, L.stage, grad_stages);
          block_to_rows(grad_a_l, M, grad_as);
          block_to_rows(grad_e_l, S, grad_es);
          for (int l = 0; l < n; ++l)
            finish(first + l, grad_stages + l * L.stage, grad_as + l * M, grad_es + l * S, grad_n);
        });
      });
      if (slots.n_fields && ctx->needs_input_grad(kCartesian))
        result[kCartesian] = field_hand_gradient<T>(plan, step, grads, slots, load_grad, cartesian_in.options());
    });
    // The delayed senses and earlier actions get their columns of the observation's gradient.
    if (grad_observation.defined()) {
      const auto columns_of = [&](int64_t first, int64_t width) {
        return grad_observation.narrow(1, first, width).contiguous();
      };
      if (slots.vision >= 0) result[kDelayedVision] = columns_of(columns.vision, S);
      if (slots.proprio >= 0) result[kDelayedProprio] = columns_of(columns.proprio, 2 * M);
      for (int64_t f = 0; f < n_earlier; ++f) result[kFirstFrame + f] = columns_of(columns.frames + f * M, M);
    }
    return result;
  }

 private:
  // Every fused field's force at `step` from the hand state [B, 2S], written into `out` from `first` (none when
  // `first` < 0); returns their sum, rounded to T, as the step's load [B * S].
  template <typename T>
  static std::vector<double> field_forces(const EnvironmentStepPlan& plan, int64_t step, const torch::Tensor& hand,
                                          const variable_list& out, int64_t first) {
    const auto& kernel = *plan.fields;
    const int64_t B = kernel.batch(), S = kernel.space_dim(), F = kernel.n_fields();
    TORCH_CHECK(hand.dim() == 2 && hand.size(0) == B && hand.size(1) == 2 * S,
                "the fused fields of this episode take a hand state [", B, ", ", 2 * S, "], got ", hand.sizes());
    std::vector<double> hand_values(B * 2 * S), forces((F + 1) * B * S);
    const Rows<T> hand_rows(hand);
    for (int64_t b = 0; b < B; ++b) hand_rows.read(b, hand_values.data() + b * 2 * S);
    std::vector<double*> outputs(F + 1);
    for (int64_t f = 0; f <= F; ++f) outputs[f] = forces.data() + f * B * S;
    kernel.forces(step, hand_values.data(), outputs.data());
    for (auto& value : forces) value = static_cast<double>(static_cast<T>(value));
    if (first >= 0)
      for (int64_t f = 0; f <= F; ++f) {
        T* data = out[first + f].data_ptr<T>();
        for (int64_t i = 0; i < B * S; ++i) data[i] = static_cast<T>(outputs[f][i]);
      }
    return std::vector<double>(outputs[F], outputs[F] + B * S);
  }

  // The hand state's gradient [B, 2S] from each field's output gradient and the sum's (its output's plus the
  // step's load gradient).
  template <typename T>
  static torch::Tensor field_hand_gradient(const EnvironmentStepPlan& plan, int64_t step, const variable_list& grads,
                                           const OutputSlots& slots, std::vector<double> load_grad,
                                           const torch::TensorOptions& options) {
    const auto& kernel = *plan.fields;
    const int64_t B = kernel.batch(), S = kernel.space_dim(), F = kernel.n_fields();
    std::vector<std::vector<double>> values(F);
    std::vector<const double*> pointers(F + 1, nullptr);
    for (int64_t f = 0; f <= F; ++f) {
      const auto& grad = grads[slots.first_field + f];
      if (!grad.defined()) continue;
      const Rows<T> rows(grad);
      std::vector<double> row(S);
      auto& into = f < F ? values[f] : load_grad;
      if (f < F) into.assign(B * S, 0.0);
      for (int64_t b = 0; b < B; ++b) {
        rows.read(b, row.data());
        for (int64_t i = 0; i < S; ++i) into[b * S + i] += row[i];
      }
    }
    for (int64_t f = 0; f < F; ++f) pointers[f] = values[f].empty() ? nullptr : values[f].data();
    pointers[F] = load_grad.data();
    std::vector<double> hand_grad(B * 2 * S);
    kernel.hand_gradient(step, pointers.data(), hand_grad.data());
    auto result = torch::empty({B, 2 * S}, options);
    T* data = result.data_ptr<T>();
    for (int64_t i = 0; i < B * 2 * S; ++i) data[i] = static_cast<T>(hand_grad[i]);
    return result;
  }
};

bool cpu_floating(const torch::Tensor& t, torch::ScalarType type) {
  return !t.defined() || (t.device().is_cpu() && t.scalar_type() == type);
}

}  // namespace

EnvironmentStepOutputs environment_step(const std::shared_ptr<const EnvironmentStepPlan>& plan_pointer,
                                        const EnvironmentStepInputs& in) {
  const auto& plan = *plan_pointer;
  const auto& state = in.state;
  const int64_t B = state.joint.size(0);
  const auto type = state.joint.scalar_type();
  TORCH_CHECK(in.kernels, "a fused environment step needs the effector's fused kernels");
  TORCH_CHECK(in.task_inputs.defined() && in.task_inputs.dim() == 2 && in.task_inputs.size(0) == B &&
                  cpu_floating(in.task_inputs, type) && !in.task_inputs.requires_grad(),
              "the task inputs of a fused environment step must be [B, I] on the CPU, in the state's dtype, without "
              "gradient");
  const int64_t n_earlier = plan.action_frames > 0 ? plan.action_frames - 1 : 0;
  TORCH_CHECK(static_cast<int64_t>(in.earlier_frames.size()) == n_earlier, "a fused environment step of ",
              plan.action_frames, " stacked actions takes ", n_earlier, " earlier ones, got ",
              in.earlier_frames.size());
  const int64_t S = state.cartesian.size(1) / 2, M = state.muscle.size(2);
  const auto require_rows = [&](const torch::Tensor& t, int64_t width, const char* what) {
    TORCH_CHECK(!t.defined() || (t.dim() == 2 && t.size(0) == B && t.size(1) == width && cpu_floating(t, type)),
                "a fused environment step takes ", what, " as [", B, ", ", width, "] on the CPU in the state's dtype");
  };
  require_rows(in.action, M, "the action");
  require_rows(in.delayed_vision, S, "the delayed vision");
  require_rows(in.delayed_proprio, 2 * M, "the delayed proprioception");
  for (const auto& frame : in.earlier_frames) require_rows(frame, M, "the earlier actions");
  // Each draw is given exactly where its sigma is set (the node's outputs follow the sigmas).
  TORCH_CHECK(in.action_draws.defined() == (plan.action_sigma != 0.0) &&
                  in.observation_draws.defined() == !plan.observation_sigma.empty(),
              "a fused environment step takes the motor and observation noise draws exactly where their sigma is set");
  require_rows(in.action_draws, M, "the motor noise draws");
  require_rows(in.observation_draws, static_cast<int64_t>(plan.observation_sigma.size()), "the observation draws");
  TORCH_CHECK(in.delayed_vision.defined() == (plan.vision_lag > 1) &&
                  in.delayed_proprio.defined() == (plan.proprioception_lag > 1),
              "a fused environment step takes the delayed senses exactly where their lag is over one step");
  std::vector<torch::Tensor> inputs(kFirstFrame);
  inputs[kJoint] = state.joint;
  inputs[kMuscle] = state.muscle;
  inputs[kGeometry] = state.geometry;
  inputs[kCartesian] = state.cartesian;
  inputs[kAction] = in.action;
  inputs[kEndpointLoad] = or_absent(in.endpoint_load);
  inputs[kActionDraws] = or_absent(in.action_draws);
  inputs[kScale] = plan.senses.scale;
  inputs[kVisionDraws] = or_absent(in.vision_draws);
  inputs[kProprioDraws] = or_absent(in.proprio_draws);
  inputs[kDelayedVision] = or_absent(in.delayed_vision);
  inputs[kDelayedProprio] = or_absent(in.delayed_proprio);
  inputs[kObservationDraws] = or_absent(in.observation_draws);
  inputs[kTaskInputs] = in.task_inputs;
  inputs.insert(inputs.end(), in.earlier_frames.begin(), in.earlier_frames.end());
  auto holder = c10::make_intrusive<PlanHolder>(plan_pointer, in.kernels, in.step, in.task_inputs.size(1));
  auto out = FusedEnvironmentStep::apply(torch::TensorList(inputs), std::move(holder));

  const OutputSlots slots(plan, in.step);
  EnvironmentStepOutputs result;
  result.state = {out[0], out[1], out[2], out[3]};
  result.observation = out[OutputSlots::kObservation];
  result.clean_observation = slots.clean >= 0 ? out[slots.clean] : result.observation;
  result.noisy_action = slots.noisy_action >= 0 ? out[slots.noisy_action] : in.action;
  if (slots.vision >= 0) result.vision = out[slots.vision];
  if (slots.proprio >= 0) result.proprioception = out[slots.proprio];
  result.field_forces.assign(out.begin() + slots.first_field, out.begin() + slots.first_field + slots.n_fields);
  return result;
}

}  // namespace motornet::fused
