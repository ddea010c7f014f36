#include "motornet/io/figures.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <sstream>

#include "motornet/core/error.h"
#include "motornet/io/atomic_file.h"

namespace motornet {

namespace {

struct Color {
  double r, g, b;
};

// Evenly spaced hues (for targets, muscles).
Color palette(int index, int count) {
  const double hue = std::fmod(index / std::max(1.0, static_cast<double>(count)), 1.0) * 6.0;
  const double x = 1.0 - std::fabs(std::fmod(hue, 2.0) - 1.0);
  const double c = 0.75;
  double r = 0, g = 0, b = 0;
  switch (static_cast<int>(hue)) {
    case 0: r = c, g = c * x; break;
    case 1: r = c * x, g = c; break;
    case 2: g = c, b = c * x; break;
    case 3: g = c * x, b = c; break;
    case 4: r = c * x, b = c; break;
    default: r = c, b = c * x; break;
  }
  return {r + 0.1, g + 0.1, b + 0.1};
}

void set_color(cairo_t* cr, Color c, double alpha = 1.0) { cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha); }

void text(cairo_t* cr, double x, double y, const std::string& s, double size, double align_x = 0.0,
          double align_y = 0.0, double angle = 0.0) {
  cairo_save(cr);
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  cairo_text_extents_t extents;
  cairo_text_extents(cr, s.c_str(), &extents);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, angle);
  cairo_move_to(cr, -align_x * extents.width - extents.x_bearing, -align_y * extents.height - extents.y_bearing);
  cairo_show_text(cr, s.c_str());
  cairo_restore(cr);
}

// Ticks at 1, 2 or 5 times a power of ten, about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 6) {
  const double span = hi - lo;
  if (!(span > 0)) return {lo};
  const double raw = span / target;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power;
  for (double factor : {1.0, 2.0, 5.0, 10.0})
    if (raw <= factor * power) {
      step = factor * power;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + 1e-9 * span; t += step) ticks.push_back(std::fabs(t) < 1e-12 * step ? 0.0 : t);
  return ticks;
}

std::string tick_label(double value) {
  if (value == 0.0) return "0";
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e4 || magnitude < 1e-3) return fmt::format("{:.0e}", value);
  return fmt::format("{:g}", value);
}

// A rectangle of the canvas with data coordinates.
struct Axes {
  double left, top, right, bottom;  // pixels
  double x_min, x_max, y_min, y_max;
  bool log_y = false;

  double px(double x) const { return left + (x - x_min) / (x_max - x_min) * (right - left); }
  double py(double y) const {
    if (log_y) y = std::log10(std::max(y, 1e-300));
    double lo = log_y ? std::log10(y_min) : y_min, hi = log_y ? std::log10(y_max) : y_max;
    return bottom - (y - lo) / (hi - lo) * (bottom - top);
  }

  void frame(cairo_t* cr, const std::string& x_label, const std::string& y_label, const std::string& title) const {
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, left, top, right - left, bottom - top);
    cairo_stroke(cr);
    for (double t : nice_ticks(x_min, x_max)) {
      cairo_move_to(cr, px(t), bottom);
      cairo_line_to(cr, px(t), bottom + 5);
      cairo_stroke(cr);
      text(cr, px(t), bottom + 8, tick_label(t), 12, 0.5, 0.0);
    }
    std::vector<double> y_ticks;
    if (log_y) {
      for (int e = static_cast<int>(std::floor(std::log10(y_min))); e <= static_cast<int>(std::ceil(std::log10(y_max))); ++e)
        if (std::pow(10.0, e) >= y_min * 0.999 && std::pow(10.0, e) <= y_max * 1.001) y_ticks.push_back(std::pow(10.0, e));
      if (y_ticks.size() <= 2)  // less than two decades: label 2x and 5x too
        for (double m : {2.0, 5.0})
          for (int e = static_cast<int>(std::floor(std::log10(y_min))); e <= static_cast<int>(std::ceil(std::log10(y_max))); ++e)
            if (m * std::pow(10.0, e) >= y_min && m * std::pow(10.0, e) <= y_max) y_ticks.push_back(m * std::pow(10.0, e));
    } else {
      y_ticks = nice_ticks(y_min, y_max);
    }
    for (double t : y_ticks) {
      cairo_move_to(cr, left - 5, py(t));
      cairo_line_to(cr, left, py(t));
      cairo_stroke(cr);
      text(cr, left - 8, py(t), tick_label(t), 12, 1.0, 0.5);
    }
    text(cr, (left + right) / 2, bottom + 30, x_label, 14, 0.5, 0.0);
    text(cr, left - 58, (top + bottom) / 2, y_label, 14, 0.5, 0.0, -M_PI / 2);
    text(cr, (left + right) / 2, top - 14, title, 16, 0.5, 1.0);
  }

  void clip(cairo_t* cr) const {
    cairo_rectangle(cr, left, top, right - left, bottom - top);
    cairo_clip(cr);
  }
};

// Equal scales on both axes (for positions), padding the shorter range.
void equalize(Axes& axes) {
  const double sx = (axes.x_max - axes.x_min) / (axes.right - axes.left);
  const double sy = (axes.y_max - axes.y_min) / (axes.bottom - axes.top);
  if (sx > sy) {
    const double mid = (axes.y_min + axes.y_max) / 2, half = sx * (axes.bottom - axes.top) / 2;
    axes.y_min = mid - half, axes.y_max = mid + half;
  } else {
    const double mid = (axes.x_min + axes.x_max) / 2, half = sy * (axes.right - axes.left) / 2;
    axes.x_min = mid - half, axes.x_max = mid + half;
  }
}

// Draws the same picture as PNG and SVG.
void render(const std::string& stem, FigureSize size, const std::function<void(cairo_t*)>& draw) {
  auto paint = [&](cairo_surface_t* surface) {
    cairo_t* cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    draw(cr);
    cairo_destroy(cr);
  };
  // Each file through a temporary (io/atomic_file.h): a failed write (a full disk) leaves the previous figure.
  cairo_surface_t* png = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, size.width, size.height);
  paint(png);
  try {
    write_via_temporary(stem + ".png", [&](const std::string& temporary) {
      const auto status = cairo_surface_write_to_png(png, temporary.c_str());
      if (status != CAIRO_STATUS_SUCCESS)
        throw InputError(temporary, std::string("cannot write the figure: ") + cairo_status_to_string(status));
    });
  } catch (...) {
    cairo_surface_destroy(png);
    throw;
  }
  cairo_surface_destroy(png);
  write_via_temporary(stem + ".svg", [&](const std::string& temporary) {
    cairo_surface_t* svg = cairo_svg_surface_create(temporary.c_str(), size.width, size.height);
    if (cairo_surface_status(svg) == CAIRO_STATUS_SUCCESS) {
      paint(svg);
      cairo_surface_finish(svg);  // writes the file; a write error shows in the surface's status
    }
    const auto status = cairo_surface_status(svg);
    cairo_surface_destroy(svg);
    if (status != CAIRO_STATUS_SUCCESS)
      throw InputError(temporary, std::string("cannot write the figure: ") + cairo_status_to_string(status));
  });
}

Axes axes_for(FigureSize size) { return {85.0, 50.0, size.width - 30.0, size.height - 60.0, 0, 1, 0, 1}; }

std::vector<double> column(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

void polyline(cairo_t* cr, const Axes& axes, const std::vector<double>& x, const std::vector<double>& y) {
  for (size_t i = 0; i < x.size(); ++i) {
    if (i == 0) {
      cairo_move_to(cr, axes.px(x[i]), axes.py(y[i]));
    } else {
      cairo_line_to(cr, axes.px(x[i]), axes.py(y[i]));
    }
  }
  cairo_stroke(cr);
}

void legend(cairo_t* cr, double x, double y, const std::vector<std::pair<std::string, Color>>& entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    set_color(cr, entries[i].second);
    cairo_set_line_width(cr, 3);
    cairo_move_to(cr, x, y + 18 * i);
    cairo_line_to(cr, x + 22, y + 18 * i);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text(cr, x + 28, y + 18 * i, entries[i].first, 12, 0.0, 0.5);
  }
}

}  // namespace

namespace {
// A number of metrics.csv; a damaged cell is an InputError naming the file, the line and the cell.
double metrics_number(const std::string& cell, const std::string& metrics_csv, int64_t line_number) {
  size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(cell, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != cell.size())
    throw InputError(metrics_csv, fmt::format("line {}: '{}' is not a number (the file is damaged)", line_number, cell));
  return value;
}
}  // namespace

bool plot_loss_curve(const std::string& metrics_csv, const std::string& stem, FigureSize size) {
  std::ifstream in(metrics_csv);
  require(in.good(), metrics_csv, "cannot read the metrics");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream header_stream(line);
  for (std::string cell; std::getline(header_stream, cell, ',');) header.push_back(cell);
  auto index_of = [&](const std::string& name) {
    auto it = std::find(header.begin(), header.end(), name);
    require(it != header.end(), metrics_csv, "no column '" + name + "'");
    return static_cast<size_t>(it - header.begin());
  };
  const size_t batch_col = index_of("batch"), loss_col = index_of("loss"), validation_col = index_of("validation_loss");
  std::vector<double> batches, losses, validation_batches, validations;
  for (int64_t line_number = 2; std::getline(in, line); ++line_number) {
    std::vector<std::string> cells;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    if (cells.size() <= loss_col) continue;
    const double batch = metrics_number(cells[batch_col], metrics_csv, line_number);
    const double loss = metrics_number(cells[loss_col], metrics_csv, line_number);
    if (std::isfinite(loss) && loss > 0) batches.push_back(batch), losses.push_back(loss);
    if (cells.size() > validation_col && !cells[validation_col].empty())
      validation_batches.push_back(batch),
          validations.push_back(metrics_number(cells[validation_col], metrics_csv, line_number));
  }
  // No batch, or no positive loss (every weight 0): nothing a logarithmic axis can show.
  if (losses.empty()) return false;
  // A running mean over 1% of the run shows the trend through the batch-to-batch noise.
  std::vector<double> smooth(losses.size());
  const size_t window = std::max<size_t>(1, losses.size() / 100);
  double sum = 0;
  for (size_t i = 0; i < losses.size(); ++i) {
    sum += losses[i];
    if (i >= window) sum -= losses[i - window];
    smooth[i] = sum / std::min(i + 1, window);
  }
  Axes axes = axes_for(size);
  axes.log_y = true;
  axes.x_min = 0;
  axes.x_max = std::max(batches.back(), 1.0);
  double lo = *std::min_element(losses.begin(), losses.end()), hi = *std::max_element(losses.begin(), losses.end());
  for (double v : validations) lo = std::min(lo, v), hi = std::max(hi, v);
  axes.y_min = lo / 1.2;
  axes.y_max = hi * 1.2;
  render(stem, size, [&](cairo_t* cr) {
    cairo_save(cr);
    axes.clip(cr);
    cairo_set_line_width(cr, 0.8);
    set_color(cr, {0.55, 0.7, 0.9});
    polyline(cr, axes, batches, losses);
    cairo_set_line_width(cr, 2.0);
    set_color(cr, {0.1, 0.3, 0.7});
    polyline(cr, axes, batches, smooth);
    set_color(cr, {0.9, 0.45, 0.1});
    polyline(cr, axes, validation_batches, validations);
    for (size_t i = 0; i < validations.size(); ++i) {
      cairo_arc(cr, axes.px(validation_batches[i]), axes.py(validations[i]), 3.5, 0, 2 * M_PI);
      cairo_fill(cr);
    }
    cairo_restore(cr);
    axes.frame(cr, "batch", "loss (log scale)", "Training loss");
    legend(cr, axes.right - 190, axes.top + 18,
           {{"training (per batch)", {0.55, 0.7, 0.9}}, {"training (running mean)", {0.1, 0.3, 0.7}},
            {"validation", {0.9, 0.45, 0.1}}});
  });
  return true;
}

void plot_curves(const std::vector<Curve>& curves, const std::string& x_label, const std::string& y_label,
                 const std::string& title, const std::string& stem, FigureSize size) {
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const auto& curve : curves)
    for (size_t i = 0; i < curve.x.size(); ++i) {
      if (!std::isfinite(curve.x[i]) || !std::isfinite(curve.y[i])) continue;
      x_lo = std::min(x_lo, curve.x[i]), x_hi = std::max(x_hi, curve.x[i]);
      y_lo = std::min(y_lo, curve.y[i]), y_hi = std::max(y_hi, curve.y[i]);
    }
  require(std::isfinite(x_lo), stem, "no finite points to plot");
  Axes axes = axes_for(size);
  const double x_pad = x_hi > x_lo ? 0.03 * (x_hi - x_lo) : 1.0, y_pad = y_hi > y_lo ? 0.08 * (y_hi - y_lo) : 1e-3;
  axes.x_min = x_lo - x_pad, axes.x_max = x_hi + x_pad;
  axes.y_min = y_lo - y_pad, axes.y_max = y_hi + y_pad;
  std::vector<std::pair<std::string, Color>> entries;
  render(stem, size, [&](cairo_t* cr) {
    cairo_save(cr);
    axes.clip(cr);
    for (size_t c = 0; c < curves.size(); ++c) {
      const Color color = palette(static_cast<int>(c), static_cast<int>(curves.size()));
      set_color(cr, color);
      cairo_set_line_width(cr, 1.8);
      polyline(cr, axes, curves[c].x, curves[c].y);
      for (size_t i = 0; i < curves[c].x.size(); ++i) {
        if (!std::isfinite(curves[c].y[i])) continue;
        cairo_arc(cr, axes.px(curves[c].x[i]), axes.py(curves[c].y[i]), 3.0, 0, 2 * M_PI);
        cairo_fill(cr);
      }
      entries.push_back({curves[c].name, color});
    }
    cairo_restore(cr);
    axes.frame(cr, x_label, y_label, title);
    legend(cr, axes.right - 190, axes.top + 18, entries);
  });
}

void plot_trajectories(const EpisodeRecord& e, const std::string& stem, FigureSize size) {
  const int64_t trials = std::min<int64_t>(e.fingertip.size(0), 64);
  auto goal_end = e.goal.select(1, -1);
  // Colour by target: trials with the same final goal share a colour.
  std::vector<int> colour(trials);
  std::vector<std::vector<double>> targets;
  for (int64_t b = 0; b < trials; ++b) {
    auto t = column(goal_end[b]);
    auto it = std::find_if(targets.begin(), targets.end(), [&](const auto& u) {
      return std::hypot(u[0] - t[0], u[1] - t[1]) < 1e-6;
    });
    colour[b] = static_cast<int>(it - targets.begin());
    if (it == targets.end()) targets.push_back(t);
  }
  Axes axes = axes_for(size);
  auto positions = e.fingertip.narrow(0, 0, trials);
  axes.x_min = std::min(positions.select(2, 0).min().item<double>(), goal_end.select(1, 0).min().item<double>());
  axes.x_max = std::max(positions.select(2, 0).max().item<double>(), goal_end.select(1, 0).max().item<double>());
  axes.y_min = std::min(positions.select(2, 1).min().item<double>(), goal_end.select(1, 1).min().item<double>());
  axes.y_max = std::max(positions.select(2, 1).max().item<double>(), goal_end.select(1, 1).max().item<double>());
  const double pad = 0.08 * std::max({axes.x_max - axes.x_min, axes.y_max - axes.y_min, 1e-3});
  axes.x_min -= pad, axes.x_max += pad, axes.y_min -= pad, axes.y_max += pad;
  equalize(axes);
  render(stem, size, [&](cairo_t* cr) {
    cairo_save(cr);
    axes.clip(cr);
    for (int64_t b = 0; b < trials; ++b) {
      const Color c = palette(colour[b], static_cast<int>(targets.size()));
      set_color(cr, c, 0.85);
      cairo_set_line_width(cr, 1.5);
      polyline(cr, axes, column(positions[b].select(1, 0)), column(positions[b].select(1, 1)));
      auto start = column(positions[b][0]);
      cairo_arc(cr, axes.px(start[0]), axes.py(start[1]), 3, 0, 2 * M_PI);
      cairo_fill(cr);
    }
    for (size_t k = 0; k < targets.size(); ++k) {
      set_color(cr, palette(static_cast<int>(k), static_cast<int>(targets.size())));
      cairo_set_line_width(cr, 2);
      cairo_arc(cr, axes.px(targets[k][0]), axes.py(targets[k][1]), 7, 0, 2 * M_PI);
      cairo_stroke(cr);
    }
    cairo_restore(cr);
    axes.frame(cr, "x (m)", "y (m)", fmt::format("Hand trajectories ({} trials; dots: starts, circles: targets)", trials));
  });
}

void plot_arm_snapshots(const EpisodeRecord& e, double upper_arm_length, const std::string& stem, int every,
                        FigureSize size) {
  require(e.joint.size(2) == 4 && e.fingertip.size(2) == 2, "effector", "arm snapshots need a two-joint planar arm");
  const int64_t panels = std::min<int64_t>(e.joint.size(0), 4);
  const int64_t steps = e.joint.size(1);
  render(stem, size, [&](cairo_t* cr) {
    const double w = size.width / 2.0, h = size.height / 2.0;
    for (int64_t p = 0; p < panels; ++p) {
      Axes axes{w * (p % 2) + 70, h * (p / 2) + 40, w * (p % 2) + w - 15, h * (p / 2) + h - 45, 0, 1, 0, 1};
      auto hand = e.fingertip[p];
      // Frame the shoulder, every elbow and hand position and the target.
      auto q1 = e.joint[p].select(1, 0);
      auto xs = torch::cat({hand.select(1, 0), upper_arm_length * torch::cos(q1), e.goal[p].select(1, 0),
                            torch::zeros({1}, hand.options())});
      auto ys = torch::cat({hand.select(1, 1), upper_arm_length * torch::sin(q1), e.goal[p].select(1, 1),
                            torch::zeros({1}, hand.options())});
      axes.x_min = xs.min().item<double>(), axes.x_max = xs.max().item<double>();
      axes.y_min = ys.min().item<double>(), axes.y_max = ys.max().item<double>();
      const double pad = 0.08 * std::max({axes.x_max - axes.x_min, axes.y_max - axes.y_min, 1e-3});
      axes.x_min -= pad, axes.x_max += pad, axes.y_min -= pad, axes.y_max += pad;
      equalize(axes);
      cairo_save(cr);
      axes.clip(cr);
      auto goal = column(e.goal[p][-1]);
      set_color(cr, {0.85, 0.2, 0.2});
      cairo_set_line_width(cr, 2);
      cairo_arc(cr, axes.px(goal[0]), axes.py(goal[1]), 6, 0, 2 * M_PI);
      cairo_stroke(cr);
      for (int64_t t = 0; t < steps; t += every) {
        const double shade = 0.8 - 0.65 * t / std::max<int64_t>(1, steps - 1);
        auto q = column(e.joint[p][t]);
        auto tip = column(hand[t]);
        const double elbow_x = upper_arm_length * std::cos(q[0]), elbow_y = upper_arm_length * std::sin(q[0]);
        cairo_set_source_rgb(cr, shade, shade, shade + 0.1);
        cairo_set_line_width(cr, 3);
        cairo_move_to(cr, axes.px(0), axes.py(0));
        cairo_line_to(cr, axes.px(elbow_x), axes.py(elbow_y));
        cairo_line_to(cr, axes.px(tip[0]), axes.py(tip[1]));
        cairo_stroke(cr);
        cairo_arc(cr, axes.px(elbow_x), axes.py(elbow_y), 3, 0, 2 * M_PI);
        cairo_fill(cr);
      }
      set_color(cr, {0.1, 0.4, 0.8});
      cairo_set_line_width(cr, 1.2);
      polyline(cr, axes, column(hand.select(1, 0)), column(hand.select(1, 1)));
      cairo_restore(cr);
      axes.frame(cr, "x (m)", "y (m)", fmt::format("Trial {} (every {} ms, darker = later)", p, static_cast<int>(std::lround(every * e.timestep * 1000))));
    }
  });
}

void plot_muscle_activation(const EpisodeRecord& e, const std::vector<std::string>& muscle_names,
                            const std::string& stem, FigureSize size) {
  const int64_t muscles = e.activation.size(2), steps = e.activation.size(1);
  std::vector<double> time(steps);
  for (int64_t t = 0; t < steps; ++t) time[t] = t * e.timestep;
  Axes axes = axes_for(size);
  axes.right -= 150;  // room for the legend
  axes.x_min = 0, axes.x_max = std::max(time.back(), e.timestep);
  axes.y_min = 0, axes.y_max = std::max(1e-3, e.activation[0].max().item<double>() * 1.1);
  render(stem, size, [&](cairo_t* cr) {
    std::vector<std::pair<std::string, Color>> entries;
    cairo_save(cr);
    axes.clip(cr);
    for (int64_t m = 0; m < muscles; ++m) {
      const Color c = palette(static_cast<int>(m), static_cast<int>(muscles));
      set_color(cr, c);
      cairo_set_line_width(cr, 2);
      polyline(cr, axes, time, column(e.activation[0].select(1, m)));
      entries.push_back({m < static_cast<int64_t>(muscle_names.size()) ? muscle_names[m] : fmt::format("muscle {}", m), c});
    }
    cairo_restore(cr);
    axes.frame(cr, "time (s)", "activation", "Muscle activation (trial 0)");
    legend(cr, axes.right + 15, axes.top + 10, entries);
  });
}

void plot_hidden_activity(const EpisodeRecord& e, const std::string& stem, FigureSize size) {
  require(e.hidden.size(2) > 0, "policy", "the policy has no hidden state to plot");
  auto activity = e.hidden[0].t().contiguous().to(torch::kFloat64);  // [H, T+1]
  const int64_t units = activity.size(0), steps = activity.size(1);
  const double limit = std::max(1e-6, activity.abs().max().item<double>());
  Axes axes = axes_for(size);
  axes.right -= 90;  // colour bar
  axes.x_min = 0, axes.x_max = steps * e.timestep;
  axes.y_min = 0, axes.y_max = static_cast<double>(units);
  auto shade = [&](double v) -> Color {  // blue (negative) - white - red (positive)
    const double s = std::clamp(v / limit, -1.0, 1.0);
    return s >= 0 ? Color{1.0, 1.0 - 0.85 * s, 1.0 - 0.85 * s} : Color{1.0 + 0.85 * s, 1.0 + 0.85 * s, 1.0};
  };
  const double* data = activity.data_ptr<double>();
  render(stem, size, [&](cairo_t* cr) {
    const double cell_w = (axes.right - axes.left) / steps, cell_h = (axes.bottom - axes.top) / units;
    for (int64_t u = 0; u < units; ++u)
      for (int64_t t = 0; t < steps; ++t) {
        set_color(cr, shade(data[u * steps + t]));
        cairo_rectangle(cr, axes.left + t * cell_w, axes.bottom - (u + 1) * cell_h, cell_w + 0.5, cell_h + 0.5);
        cairo_fill(cr);
      }
    axes.frame(cr, "time (s)", "hidden unit", "Hidden activity (trial 0)");
    const double bar_left = axes.right + 25, bar_width = 18;
    for (int i = 0; i < 100; ++i) {
      const double v = limit * (1.0 - 2.0 * i / 99.0);
      set_color(cr, shade(v));
      cairo_rectangle(cr, bar_left, axes.top + i * (axes.bottom - axes.top) / 100.0, bar_width,
                      (axes.bottom - axes.top) / 100.0 + 0.5);
      cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text(cr, bar_left + bar_width + 4, axes.top, tick_label(std::round(limit * 1000) / 1000), 11, 0.0, 0.5);
    text(cr, bar_left + bar_width + 4, (axes.top + axes.bottom) / 2, "0", 11, 0.0, 0.5);
    text(cr, bar_left + bar_width + 4, axes.bottom, tick_label(-std::round(limit * 1000) / 1000), 11, 0.0, 0.5);
  });
}

}  // namespace motornet
