// `cppdet analyze-logs plot-curve | cal-train-time`: MMDetection's analyze_logs.py on
// <timestamp>.log.json training logs, with the plot drawn by OpenCV (no matplotlib).
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <opencv2/imgcodecs.hpp>

#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"
#include "cppdet/visualization/json_log.h"
#include "cppdet/visualization/log_plot.h"
#include "cppdet/visualization/train_time.h"

namespace cppdet::tools {
namespace {

namespace vis = cppdet::visualization;
namespace fs = std::filesystem;

std::vector<vis::JsonLog> load_logs(const std::vector<std::string>& paths) {
  std::vector<vis::JsonLog> logs;
  for (const std::string& p : paths) {
    if (p.size() < 5 || p.compare(p.size() - 5, 5, ".json") != 0)
      throw UserError(p + ": expected a JSON log (<timestamp>.log.json)");
    logs.push_back(vis::load_json_log(p));
  }
  return logs;
}

// Encodes by the extension of `path` and writes the file whole or not at all.
void write_image_atomically(const std::string& path, const cv::Mat& img) {
  const std::string ext = fs::path(path).extension().string();
  std::vector<uchar> bytes;
  bool ok = false;
  try {
    ok = !ext.empty() && cv::imencode(ext, img, bytes);
  } catch (const cv::Exception&) {
    ok = false;
  }
  if (!ok) throw UserError(path + ": cannot encode an image with extension \"" + ext + "\" (use .png or .jpg)");
  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  write_file_atomically(path, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  });
}

void add_plot_curve(CLI::App& parent) {
  struct Opts {
    std::vector<std::string> logs;
    vis::PlotCurveOptions plot;
    std::string out;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = parent.add_subcommand("plot-curve", "plot losses per iteration / mAP per epoch from JSON logs");
  cmd->add_option("json_logs", o->logs, "training logs (<timestamp>.log.json)")->required();
  cmd->add_option("--keys", o->plot.keys, "keys to plot (default bbox_mAP)")->expected(1, -1);
  cmd->add_option("--legend", o->plot.legend, "one legend entry per log and key (default <log>_<key>)")->expected(1, -1);
  cmd->add_option("--title", o->plot.title, "figure title");
  cmd->add_option("--width", o->plot.width, "image width in pixels")->capture_default_str()->check(CLI::Range(200, 8000));
  cmd->add_option("--height", o->plot.height, "image height in pixels")->capture_default_str()->check(CLI::Range(150, 8000));
  cmd->add_option("--out", o->out, "image file to write (.png, .jpg)")->required();
  cmd->callback([o] {
    const std::vector<vis::JsonLog> logs = load_logs(o->logs);
    for (const vis::JsonLog& log : logs)
      for (const std::string& key : o->plot.keys) std::cout << "plot curve of " << log.path << ", metric is " << key << "\n";
    const cv::Mat img = vis::plot_log_curves(logs, o->plot);
    write_image_atomically(o->out, img);
    std::cout << "save curve to: " << o->out << "\n";
  });
}

void add_cal_train_time(CLI::App& parent) {
  struct Opts {
    std::vector<std::string> logs;
    bool include_outliers = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = parent.add_subcommand("cal-train-time", "average training time per iteration from JSON logs");
  cmd->add_option("json_logs", o->logs, "training logs (<timestamp>.log.json)")->required();
  cmd->add_flag("--include-outliers", o->include_outliers, "include the first time value of every epoch");
  cmd->callback([o] {
    for (const vis::JsonLog& log : load_logs(o->logs))
      std::cout << vis::format_train_time(log.path, vis::compute_train_time(log, o->include_outliers));
  });
}

}  // namespace

void register_analyze_logs(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("analyze-logs", "analyse training logs (MMDetection's analyze_logs.py)");
  cmd->require_subcommand(1);
  add_plot_curve(*cmd);
  add_cal_train_time(*cmd);
}

}  // namespace cppdet::tools
