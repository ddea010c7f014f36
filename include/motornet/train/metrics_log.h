#pragma once
// metrics.csv: one row per trained batch (batch, time, loss and each loss term, validation loss, learning rate,
// gradient norm, phase), appended as training goes and cut back to a checkpoint's batch when a run resumes. A
// loss term that a phase does not have is an empty cell in that phase's rows.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace motornet {

struct BatchMetrics {
  int64_t replicate = 0;
  int64_t batch = 0;  // 1-based count of batches done
  double elapsed = 0.0;  // s of training so far (across resumes)
  double loss = 0.0;
  std::map<std::string, double> terms;
  std::optional<double> validation_loss;
  double lr = 0.0;
  double grad_norm = 0.0;
  std::string phase = "training";  // the training phase (train/phases.h) the batch belongs to
};

// What a row of metrics.csv says about training progress.
struct LoggedBatch {
  int64_t batch = 0;
  double loss = 0.0;
  std::optional<double> validation_loss;
};

class MetricsLog {
 public:
  // `directory`/metrics.csv, with a loss_<name> column for each of `term_names`.
  MetricsLog(const std::string& directory, std::vector<std::string> term_names);

  const std::string& path() const { return path_; }
  void start() const;  // a new file holding the header alone
  void append(const BatchMetrics& metrics) const;
  // Keeps the header and the rows up to `batch` (a missing file starts anew). A header with other columns than
  // this log writes, or a row whose batch cell is not a number, is an InputError naming the file (and line and
  // cell), and the file is left as it was.
  void truncate_after(int64_t batch) const;
  // The rows of batches after `after_batch`, in order (rows whose loss cell is unreadable are left out).
  std::vector<LoggedBatch> logged_batches(int64_t after_batch = 0) const;
  // The training losses of the last `count` rows after `after_batch` (fewer when there are fewer), oldest first:
  // what a resumed run counts in its "mean loss of the last 100 batches" of the phase.
  std::vector<double> last_losses(size_t count, int64_t after_batch = 0) const;

 private:
  std::string header() const;

  std::string path_;
  std::vector<std::string> term_names_;
};

}  // namespace motornet
