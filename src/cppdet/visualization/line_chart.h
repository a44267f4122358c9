#pragma once
// A small line chart drawn with OpenCV, in the spirit of matplotlib's defaults: a light axes
// background (seaborn's "dark" style, as analyze_logs.py uses), ticks with numbers at "nice"
// steps (1, 2 or 5 times a power of ten), axis label, title, a legend in the upper right, and
// curves in matplotlib's tab10 colour cycle.
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace cppdet::visualization {

struct ChartSeries {
  std::string label;
  std::vector<double> xs, ys;  // same length
  bool markers = false;        // a dot on every point (and a thicker line)
};

struct ChartOptions {
  int width = 640;  // matplotlib's default figure: 6.4 x 4.8 in at 100 dpi
  int height = 480;
  std::string title;
  std::string xlabel;
};

// The chart as a BGR image of width x height.
cv::Mat draw_line_chart(const std::vector<ChartSeries>& series, const ChartOptions& options);

// Tick positions in [lo, hi] at the nicest step giving at most `max_ticks` ticks.
std::vector<double> nice_ticks(double lo, double hi, int max_ticks);
// A tick's text with just enough decimals for `step` ("0.25", "1500", "0.002").
std::string format_tick(double value, double step);

}  // namespace cppdet::visualization
