#include "motornet/train/metrics_log.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "motornet/core/error.h"
#include "motornet/core/parse_integer.h"
#include "motornet/io/atomic_file.h"

namespace motornet {

namespace {
// Cell `index` (0-based) of a comma-separated row; empty when the row has fewer cells.
std::string cell(const std::string& line, size_t index) {
  size_t begin = 0;
  for (size_t i = 0; i < index; ++i) {
    begin = line.find(',', begin);
    if (begin == std::string::npos) return "";
    ++begin;
  }
  return line.substr(begin, line.find(',', begin) - begin);
}

// The batch number in the first column of a metrics.csv row. A row without one means the file was damaged (by
// hand, or by another writer), so the resume stops and says where, rather than dropping or misreading rows.
int64_t row_batch(const std::string& path, int64_t line_number, const std::string& line) {
  const std::string batch_cell = cell(line, 0);
  const auto batch = parse_integer(batch_cell);
  if (!batch)
    throw InputError("", fmt::format("{} line {}: the batch column is '{}', not a batch number; the file is damaged, "
                                     "so the run cannot resume from it (restore or remove that row)",
                                     path, line_number, batch_cell));
  return *batch;
}
}  // namespace

MetricsLog::MetricsLog(const std::string& directory, std::vector<std::string> term_names)
    : path_((std::filesystem::path(directory) / "metrics.csv").string()), term_names_(std::move(term_names)) {}

void MetricsLog::start() const {
  std::vector<std::string> columns = {"batch", "time_s", "loss"};
  for (const auto& term : term_names_) columns.push_back("loss_" + term);
  columns.insert(columns.end(), {"validation_loss", "lr", "grad_norm"});
  write_text_atomically(path_, fmt::format("{}\n", fmt::join(columns, ",")));
}

void MetricsLog::append(const BatchMetrics& m) const {
  std::ofstream out(path_, std::ios::app);
  out << fmt::format("{},{:.3f},{:.8g}", m.batch, m.elapsed, m.loss);
  for (const auto& term : term_names_) out << fmt::format(",{:.8g}", m.terms.at(term));
  out << "," << (m.validation_loss ? fmt::format("{:.8g}", *m.validation_loss) : std::string());
  out << fmt::format(",{:.8g},{:.8g}\n", m.lr, m.grad_norm);
}

void MetricsLog::truncate_after(int64_t batch) const {
  std::ifstream in(path_);
  if (!in) {
    start();
    return;
  }
  std::stringstream kept;
  std::string line;
  bool header = true;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (!header && (line.empty() || row_batch(path_, number, line) > batch)) continue;
    kept << line << "\n";
    header = false;
  }
  in.close();
  write_text_atomically(path_, kept.str());
}

std::vector<double> MetricsLog::last_losses(size_t count) const {
  std::ifstream in(path_);
  std::vector<double> losses;
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    try {
      losses.push_back(std::stod(cell(line, 2)));  // batch,time_s,loss,...
    } catch (const std::exception&) {
      continue;  // an unreadable loss cell counts for nothing
    }
  }
  if (losses.size() > count) losses.erase(losses.begin(), losses.end() - static_cast<std::ptrdiff_t>(count));
  return losses;
}

}  // namespace motornet
