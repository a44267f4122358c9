#include "cppdet/visualization/log_plot.h"

#include <algorithm>

#include "cppdet/core/error.h"

namespace cppdet::visualization {
namespace {

bool is_eval_metric(const std::string& key) { return key.find("mAP") != std::string::npos; }

ChartSeries eval_curve(const JsonLog& log, const std::string& key) {
  ChartSeries s;
  s.markers = true;
  for (const LogEpoch& e : log.epochs)
    for (double v : e.numbers(key, "val")) {
      s.xs.push_back(static_cast<double>(e.epoch));
      s.ys.push_back(v);
    }
  if (s.xs.empty())
    throw UserError(log.path + " does not contain metric " + key +
                    ". Please check if \"--no-validate\" is specified when you trained the model.");
  return s;
}

ChartSeries train_curve(const JsonLog& log, const std::string& key) {
  ChartSeries s;
  const std::vector<double> first_iters = log.epochs.empty() ? std::vector<double>{} : log.epochs.front().numbers("iter", "train");
  const double iters_per_epoch = first_iters.empty() ? 0 : *std::max_element(first_iters.begin(), first_iters.end());
  for (const LogEpoch& e : log.epochs)
    for (const nlohmann::json& r : e.records) {
      if (r.value("mode", std::string()) != "train") continue;
      const auto it = r.find(key);
      const auto iter = r.find("iter");
      if (it == r.end() || !it->is_number() || iter == r.end() || !iter->is_number()) continue;
      s.xs.push_back(iter->get<double>() + static_cast<double>(e.epoch - 1) * iters_per_epoch);
      s.ys.push_back(it->get<double>());
    }
  if (s.xs.empty())
    throw UserError(log.path + " does not contain metric " + key +
                    ". Please reduce the log interval in the config so that interval is less than iterations of one epoch.");
  return s;
}

}  // namespace

std::vector<ChartSeries> log_curves(const std::vector<JsonLog>& logs, const PlotCurveOptions& options,
                                    std::string* xlabel) {
  if (options.keys.empty()) throw UserError("plot-curve: no --keys given");
  const size_t expected = logs.size() * options.keys.size();
  if (!options.legend.empty() && options.legend.size() != expected)
    throw UserError("plot-curve: --legend has " + std::to_string(options.legend.size()) + " entries but " +
                    std::to_string(logs.size()) + " log(s) x " + std::to_string(options.keys.size()) +
                    " key(s) need " + std::to_string(expected));
  std::vector<ChartSeries> out;
  for (size_t i = 0; i < logs.size(); ++i)
    for (size_t j = 0; j < options.keys.size(); ++j) {
      const std::string& key = options.keys[j];
      const bool eval = is_eval_metric(key);
      ChartSeries s = eval ? eval_curve(logs[i], key) : train_curve(logs[i], key);
      s.label = options.legend.empty() ? logs[i].path + "_" + key : options.legend[i * options.keys.size() + j];
      if (xlabel) *xlabel = eval ? "epoch" : "iter";
      out.push_back(std::move(s));
    }
  return out;
}

cv::Mat plot_log_curves(const std::vector<JsonLog>& logs, const PlotCurveOptions& options) {
  ChartOptions chart;
  chart.width = options.width;
  chart.height = options.height;
  chart.title = options.title;
  const std::vector<ChartSeries> series = log_curves(logs, options, &chart.xlabel);
  return draw_line_chart(series, chart);
}

}  // namespace cppdet::visualization
