#pragma once
// analyze_logs.py plot_curve: one curve per (log, key). Keys containing "mAP" are read from the
// val records and plotted per epoch (x label "epoch", with markers); other keys from the train
// records, per iteration: x = iter + (epoch - 1) * iters_per_epoch, where iters_per_epoch is
// the last train iter of the first epoch (x label "iter"). The x label is the last key's, as
// when matplotlib draws them on one axes. Default legend: "<log path>_<key>".
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "cppdet/visualization/json_log.h"
#include "cppdet/visualization/line_chart.h"

namespace cppdet::visualization {

struct PlotCurveOptions {
  std::vector<std::string> keys{"bbox_mAP"};
  std::vector<std::string> legend;  // empty, or one per (log, key) in log-major order
  std::string title;
  int width = 640;
  int height = 480;
};

// The series to draw and the x label. UserError when a log lacks a key or the legend count is wrong.
std::vector<ChartSeries> log_curves(const std::vector<JsonLog>& logs, const PlotCurveOptions& options,
                                    std::string* xlabel);

// The whole figure (BGR).
cv::Mat plot_log_curves(const std::vector<JsonLog>& logs, const PlotCurveOptions& options);

}  // namespace cppdet::visualization
