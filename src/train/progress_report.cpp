#include "motornet/train/progress_report.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

namespace motornet {

namespace {
std::string format_duration(double seconds) {
  auto s = static_cast<int64_t>(std::max(0.0, seconds));
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60) : fmt::format("{:02}:{:02}", s / 60, s % 60);
}
}  // namespace

ProgressReport::ProgressReport(int64_t n_batches, int64_t log_every, bool enabled, std::string phase)
    : n_batches_(n_batches),
      log_every_(log_every),
      enabled_(enabled),
      terminal_(isatty(fileno(stderr))),
      phase_(phase.empty() ? "" : phase + ": ") {}

void ProgressReport::batch_done(const std::vector<BatchMetrics>& metrics, double rate) const {
  if (!enabled_ || metrics.empty()) return;
  // With replicates: the mean over replicates (each replicate's own numbers are in its metrics.csv).
  const auto& first = metrics.front();
  double loss = 0.0, grad_norm = 0.0, validation_sum = 0.0;
  for (const auto& m : metrics) {
    loss += m.loss / metrics.size();
    grad_norm += m.grad_norm / metrics.size();
    if (m.validation_loss) validation_sum += *m.validation_loss / metrics.size();
  }
  const std::string label = metrics.size() > 1 ? fmt::format("mean of {} replicates: loss", metrics.size()) : "loss";
  const double eta = rate > 0 ? (n_batches_ - first.batch) / rate : 0.0;
  std::string validation = first.validation_loss ? fmt::format(" | validation {:.4f}", validation_sum) : "";
  if (terminal_) {
    const int width = 30;
    const int filled = static_cast<int>(width * first.batch / std::max<int64_t>(1, n_batches_));
    std::cerr << fmt::format("\r{}[{}{}] {}/{} | {} {:.4f}{} | {:.1f} batch/s | ETA {}   ", phase_, std::string(filled, '#'),
                             std::string(width - filled, '.'), first.batch, n_batches_, label, loss, validation, rate,
                             format_duration(eta))
              << std::flush;
  } else if (first.batch % log_every_ == 0 || first.batch == n_batches_ || first.validation_loss) {
    std::cerr << fmt::format("{}batch {}/{} {} {:.5f}{} lr {:.3g} grad {:.3g} | {:.1f} batch/s, ETA {}\n", phase_, first.batch,
                             n_batches_, label, loss, validation, first.lr, grad_norm, rate, format_duration(eta));
  }
}

void ProgressReport::finish() const {
  if (enabled_ && terminal_) std::cerr << "\n";
}

}  // namespace motornet
