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

std::string MetricsLog::header() const {
  std::vector<std::string> columns = {"batch", "time_s", "loss"};
  for (const auto& term : term_names_) columns.push_back("loss_" + term);
  columns.insert(columns.end(), {"validation_loss", "lr", "grad_norm", "phase"});
  return fmt::format("{}", fmt::join(columns, ","));
}

void MetricsLog::start() const { write_text_atomically(path_, header() + "\n"); }

void MetricsLog::append(const BatchMetrics& m) const {
  std::ofstream out(path_, std::ios::app);
  out << fmt::format("{},{:.3f},{:.8g}", m.batch, m.elapsed, m.loss);
  for (const auto& term : term_names_) {
    auto value = m.terms.find(term);
    out << "," << (value == m.terms.end() ? std::string() : fmt::format("{:.8g}", value->second));
  }
  out << "," << (m.validation_loss ? fmt::format("{:.8g}", *m.validation_loss) : std::string());
  out << fmt::format(",{:.8g},{:.8g},{}\n", m.lr, m.grad_norm, m.phase);
}

void MetricsLog::truncate_after(int64_t batch) const {
  std::ifstream in(path_);
  if (!in) {
    start();
    return;
  }
  std::stringstream kept;
  std::string line;
  bool at_header = true;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (at_header && line != header())
      throw InputError(path_, fmt::format("has the columns '{}' but this run writes '{}' (written by another version "
                                          "or configuration); the run cannot resume into it",
                                          line, header()));
    if (!at_header && (line.empty() || row_batch(path_, number, line) > batch)) continue;
    kept << line << "\n";
    at_header = false;
  }
  in.close();
  write_text_atomically(path_, kept.str());
}

std::vector<LoggedBatch> MetricsLog::logged_batches(int64_t after_batch) const {
  std::ifstream in(path_);
  std::vector<LoggedBatch> rows;
  std::string line;
  std::getline(in, line);  // the header
  const size_t validation_column = 3 + term_names_.size();  // batch,time_s,loss,loss_<term>...,validation_loss
  while (std::getline(in, line)) {
    LoggedBatch row;
    try {
      row.batch = std::stoll(cell(line, 0));
      row.loss = std::stod(cell(line, 2));
    } catch (const std::exception&) {
      continue;  // an unreadable row counts for nothing
    }
    if (row.batch <= after_batch) continue;
    const std::string validation = cell(line, validation_column);
    if (!validation.empty()) {
      try {
        row.validation_loss = std::stod(validation);
      } catch (const std::exception&) {
      }
    }
    rows.push_back(row);
  }
  return rows;
}

std::vector<double> MetricsLog::last_losses(size_t count, int64_t after_batch) const {
  std::vector<double> losses;
  for (const auto& row : logged_batches(after_batch)) losses.push_back(row.loss);
  if (losses.size() > count) losses.erase(losses.begin(), losses.end() - static_cast<std::ptrdiff_t>(count));
  return losses;
}

}  // namespace motornet
