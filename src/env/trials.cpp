#include "motornet/env/trials.h"

#include <functional>

namespace motornet {

namespace {
// Applies `f` to every per-trial tensor of the given batches (fields matched by position), collecting the
// results in `out`; undefined tensors stay undefined.
void for_each_part(Trials& out, const std::vector<const Trials*>& parts,
                   const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>& f) {
  auto apply = [&](torch::Tensor Trials::*member) {
    std::vector<torch::Tensor> values;
    for (const auto* part : parts) values.push_back(part->*member);
    out.*member = values.front().defined() ? f(values) : torch::Tensor();
  };
  for (auto member : {&Trials::initial_joint, &Trials::start, &Trials::target, &Trials::target_cue_step,
                      &Trials::go_cue_step, &Trials::catch_trial, &Trials::goal, &Trials::inputs})
    apply(member);
  out.fields.resize(parts.front()->fields.size());
  for (size_t i = 0; i < out.fields.size(); ++i) {
    for (auto member : {&FieldTrials::active, &FieldTrials::onset_step, &FieldTrials::direction}) {
      std::vector<torch::Tensor> values;
      for (const auto* part : parts) values.push_back(part->fields.at(i).*member);
      out.fields[i].*member = values.front().defined() ? f(values) : torch::Tensor();
    }
  }
}
}  // namespace

Trials Trials::rows(int64_t begin, int64_t count) const {
  Trials out;
  for_each_part(out, {this}, [&](const std::vector<torch::Tensor>& v) { return v.front().narrow(0, begin, count); });
  return out;
}

Trials Trials::concatenate(const std::vector<Trials>& parts) {
  std::vector<const Trials*> pointers;
  for (const auto& part : parts) pointers.push_back(&part);
  Trials out;
  for_each_part(out, pointers, [](const std::vector<torch::Tensor>& v) { return torch::cat(v, 0); });
  return out;
}

}  // namespace motornet
