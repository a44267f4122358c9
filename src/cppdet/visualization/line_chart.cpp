#include "cppdet/visualization/line_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <limits>
#include <opencv2/imgproc.hpp>

namespace cppdet::visualization {
namespace {

// matplotlib's tab10 cycle as BGR.
const cv::Scalar kColors[] = {{180, 119, 31}, {14, 127, 255}, {44, 160, 44},   {40, 39, 214},  {189, 103, 148},
                              {75, 86, 140},  {194, 119, 227}, {127, 127, 127}, {34, 189, 188}, {207, 190, 23}};
const cv::Scalar kFigure(255, 255, 255);
const cv::Scalar kAxes(242, 234, 234);  // seaborn "dark": #EAEAF2
const cv::Scalar kInk(38, 38, 38);
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kTickScale = 0.4, kLabelScale = 0.5, kTitleScale = 0.55;

cv::Size text_size(const std::string& s, double scale) {
  int baseline = 0;
  return cv::getTextSize(s, kFont, scale, 1, &baseline);
}

void put_text(cv::Mat& img, const std::string& s, cv::Point org, double scale) {
  cv::putText(img, s, org, kFont, scale, kInk, 1, cv::LINE_AA);
}

struct Range {
  double lo = 0, hi = 1;
};

// The data range with matplotlib's 5% margins; a single value gets +-1 (or +-|v|/2).
Range padded(double lo, double hi) {
  if (!(lo < hi)) {
    const double d = lo == 0 ? 1.0 : std::abs(lo) * 0.5;
    return {lo - d, hi + d};
  }
  const double m = 0.05 * (hi - lo);
  return {lo - m, hi + m};
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int max_ticks) {
  std::vector<double> ticks;
  if (!(lo < hi) || max_ticks < 2) return ticks;
  const double raw = (hi - lo) / (max_ticks - 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * mag;
  for (double f : {1.0, 2.0, 5.0})
    if (f * mag >= raw) {
      step = f * mag;
      break;
    }
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1) ticks.push_back(k * step);
  return ticks;
}

std::string format_tick(double value, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  if (std::abs(value) < step * 1e-6) value = 0;  // no "-0.0"
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

cv::Mat draw_line_chart(const std::vector<ChartSeries>& series, const ChartOptions& options) {
  cv::Mat img(options.height, options.width, CV_8UC3, kFigure);
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const ChartSeries& s : series)
    for (size_t i = 0; i < s.xs.size() && i < s.ys.size(); ++i) {
      if (!std::isfinite(s.xs[i]) || !std::isfinite(s.ys[i])) continue;
      xmin = std::min(xmin, s.xs[i]), xmax = std::max(xmax, s.xs[i]);
      ymin = std::min(ymin, s.ys[i]), ymax = std::max(ymax, s.ys[i]);
    }
  if (!std::isfinite(xmin)) xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  const Range xr = padded(xmin, xmax), yr = padded(ymin, ymax);
  const std::vector<double> xticks = nice_ticks(xr.lo, xr.hi, 8);
  const std::vector<double> yticks = nice_ticks(yr.lo, yr.hi, 8);
  const double xstep = xticks.size() > 1 ? xticks[1] - xticks[0] : 1;
  const double ystep = yticks.size() > 1 ? yticks[1] - yticks[0] : 1;

  // Layout: room for the y tick labels on the left, x tick labels + x label below, title above.
  int ylabel_w = 0;
  for (double t : yticks) ylabel_w = std::max(ylabel_w, text_size(format_tick(t, ystep), kTickScale).width);
  const int tick_h = text_size("0", kTickScale).height;
  const int left = 12 + ylabel_w + 6;
  const int right = options.width - 20;
  const int top = options.title.empty() ? 16 : 16 + text_size(options.title, kTitleScale).height + 12;
  const int bottom = options.height - (10 + tick_h + 8 + (options.xlabel.empty() ? 0 : text_size("x", kLabelScale).height + 12));
  if (right - left < 20 || bottom - top < 20) return img;
  cv::rectangle(img, cv::Point(left, top), cv::Point(right, bottom), kAxes, cv::FILLED);

  auto px = [&](double x) { return left + (x - xr.lo) / (xr.hi - xr.lo) * (right - left); };
  auto py = [&](double y) { return bottom - (y - yr.lo) / (yr.hi - yr.lo) * (bottom - top); };
  constexpr int kShift = 4;  // sub-pixel drawing: coordinates in 1/16 px
  auto point = [&](double x, double y) {
    return cv::Point(static_cast<int>(std::lround(px(x) * (1 << kShift))), static_cast<int>(std::lround(py(y) * (1 << kShift))));
  };

  // Ticks and their numbers.
  for (double t : xticks) {
    const int x = static_cast<int>(std::lround(px(t)));
    cv::line(img, cv::Point(x, bottom), cv::Point(x, bottom + 4), kInk, 1);
    const std::string s = format_tick(t, xstep);
    put_text(img, s, cv::Point(x - text_size(s, kTickScale).width / 2, bottom + 8 + tick_h), kTickScale);
  }
  for (double t : yticks) {
    const int y = static_cast<int>(std::lround(py(t)));
    cv::line(img, cv::Point(left - 4, y), cv::Point(left, y), kInk, 1);
    const std::string s = format_tick(t, ystep);
    put_text(img, s, cv::Point(left - 6 - text_size(s, kTickScale).width, y + tick_h / 2), kTickScale);
  }
  cv::rectangle(img, cv::Point(left, top), cv::Point(right, bottom), kInk, 1);
  if (!options.xlabel.empty()) {
    const cv::Size sz = text_size(options.xlabel, kLabelScale);
    put_text(img, options.xlabel, cv::Point((left + right - sz.width) / 2, options.height - 10), kLabelScale);
  }
  if (!options.title.empty()) {
    const cv::Size sz = text_size(options.title, kTitleScale);
    put_text(img, options.title, cv::Point((left + right - sz.width) / 2, 12 + sz.height), kTitleScale);
  }

  // Curves.
  for (size_t k = 0; k < series.size(); ++k) {
    const ChartSeries& s = series[k];
    const cv::Scalar& color = kColors[k % std::size(kColors)];
    std::vector<cv::Point> pts;
    for (size_t i = 0; i < s.xs.size() && i < s.ys.size(); ++i)
      if (std::isfinite(s.xs[i]) && std::isfinite(s.ys[i])) pts.push_back(point(s.xs[i], s.ys[i]));
    if (pts.size() > 1) cv::polylines(img, pts, false, color, s.markers ? 2 : 1, cv::LINE_AA, kShift);
    if (s.markers || pts.size() == 1)
      for (const cv::Point& p : pts) cv::circle(img, p, 4 << kShift, color, cv::FILLED, cv::LINE_AA, kShift);
  }

  // Legend, upper right inside the axes.
  if (!series.empty()) {
    int text_w = 0;
    for (const ChartSeries& s : series) text_w = std::max(text_w, text_size(s.label, kTickScale).width);
    const int row = tick_h + 10, sample = 24;
    const int w = 8 + sample + 6 + text_w + 8, h = 6 + row * static_cast<int>(series.size());
    const int x0 = std::max(left + 2, right - 8 - w), y0 = top + 8;
    cv::rectangle(img, cv::Point(x0, y0), cv::Point(x0 + w, y0 + h), kFigure, cv::FILLED);
    cv::rectangle(img, cv::Point(x0, y0), cv::Point(x0 + w, y0 + h), cv::Scalar(204, 204, 204), 1);
    for (size_t k = 0; k < series.size(); ++k) {
      const cv::Scalar& color = kColors[k % std::size(kColors)];
      const int cy = y0 + 3 + row * static_cast<int>(k) + row / 2;
      cv::line(img, cv::Point(x0 + 8, cy), cv::Point(x0 + 8 + sample, cy), color, 2, cv::LINE_AA);
      if (series[k].markers) cv::circle(img, cv::Point(x0 + 8 + sample / 2, cy), 4, color, cv::FILLED, cv::LINE_AA);
      put_text(img, series[k].label, cv::Point(x0 + 8 + sample + 6, cy + tick_h / 2), kTickScale);
    }
  }
  return img;
}

}  // namespace cppdet::visualization
