#pragma once
// metrics.csv: one row per trained batch (batch, time, loss and each loss term, validation loss, learning rate,
// gradient norm), appended as training goes and cut back to a checkpoint's batch when a run resumes.

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
};

class MetricsLog {
 public:
  // `directory`/metrics.csv, with a loss_<name> column for each of `term_names`.
  MetricsLog(const std::string& directory, std::vector<std::string> term_names);

  const std::string& path() const { return path_; }
  void start() const;  // a new file holding the header alone
  void append(const BatchMetrics& metrics) const;
  // Keeps the header and the rows up to `batch` (a missing file starts anew). A row whose batch cell is not a
  // number is an InputError naming the file, line and cell, and the file is left as it was.
  void truncate_after(int64_t batch) const;
  // The training losses of the last `count` rows (fewer when the file has fewer), oldest first: what a resumed run
  // counts in its "mean loss of the last 100 batches".
  std::vector<double> last_losses(size_t count) const;

 private:
  std::string path_;
  std::vector<std::string> term_names_;
};

}  // namespace motornet
