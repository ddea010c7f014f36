#pragma once
// The trainer's progress on stderr: a one-line bar redrawn in place on a terminal, plain lines every
// `log_every` batches (and at validations and the end) otherwise, e.g. in a job log.

#include <cstdint>
#include <string>
#include <vector>

#include "motornet/train/metrics_log.h"

namespace motornet {

class ProgressReport {
 public:
  // Nothing is written when `enabled` is false (quiet runs, data-parallel ranks other than 0). `n_batches`: the
  // batch the bar ends at; `phase`: the training phase's name, shown before the counts ("" for a run of one).
  ProgressReport(int64_t n_batches, int64_t log_every, bool enabled, std::string phase = "");

  // After a batch: every replicate's metrics (the line shows their mean) and the batches per second so far.
  void batch_done(const std::vector<BatchMetrics>& metrics, double rate) const;
  void finish() const;  // ends the bar's line

 private:
  int64_t n_batches_, log_every_;
  bool enabled_, terminal_;
  std::string phase_;
};

}  // namespace motornet
