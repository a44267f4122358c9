#include "cppdet/visualization/draw_detections.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>

#include "cppdet/core/error.h"

namespace cppdet::visualization {
namespace {

constexpr double kAlpha = 0.8;
constexpr double kDpi = 100.0;  // matplotlib's default: the font size in points -> pixels

cv::Scalar to_bgr(const Rgb& c) { return cv::Scalar(c[2], c[1], c[0]); }

// One detection to draw, in the order mmdet stacks them (class-major, then score order).
struct Instance {
  float box[4];
  float score;
  int64_t label;
  torch::Tensor mask;  // [H, W] bool, or undefined
};

// Boxes are multiplied by `scale` (the drawing's resize factor).
std::vector<Instance> collect_instances(const DetResult& result, double score_thr, double scale) {
  std::vector<Instance> out;
  for (size_t c = 0; c < result.bboxes.size(); ++c) {
    const torch::Tensor boxes = result.bboxes[c].to(torch::kCPU, torch::kFloat32).contiguous();
    for (int64_t i = 0; i < boxes.size(0); ++i) {
      const float* row = boxes[i].data_ptr<float>();
      if (score_thr > 0 && !(row[4] > score_thr)) continue;
      const float s = static_cast<float>(scale);
      Instance inst{{row[0] * s, row[1] * s, row[2] * s, row[3] * s}, row[4], static_cast<int64_t>(c), {}};
      if (result.has_masks() && c < result.masks.size() && i < result.masks[c].size(0)) inst.mask = result.masks[c][i];
      out.push_back(std::move(inst));
    }
  }
  return out;
}

// Blends `layer` into `img` with kAlpha wherever `where` is set.
void blend_layer(cv::Mat& img, const cv::Mat& layer, const cv::Mat& where) {
  cv::Mat blended;
  cv::addWeighted(img, 1.0 - kAlpha, layer, kAlpha, 0.0, blended);
  blended.copyTo(img, where);
}

// mmdet's _get_bias_color: a colour already taken by another instance is jittered by up to
// +-30 per channel (mmdet draws the jitter from numpy's global state; a fixed seed here).
Rgb distinct_color(Rgb color, std::set<Rgb>& taken, std::mt19937& engine) {
  std::uniform_int_distribution<int> jitter(-30, 30);
  while (taken.count(color)) {
    for (uint8_t& v : color) v = static_cast<uint8_t>(std::clamp(static_cast<int>(v) + jitter(engine), 0, 255));
  }
  taken.insert(color);
  return color;
}

// Masks are [H, W] of the original image; `img` is that image resized to the drawing's size.
void draw_masks(cv::Mat& img, const cv::Size& original, const std::vector<Instance>& instances,
                const std::vector<Rgb>& palette) {
  std::set<Rgb> taken;
  std::mt19937 engine(0);
  cv::Mat edge_layer = img.clone(), edge_where = cv::Mat::zeros(img.size(), CV_8UC1);
  for (const Instance& inst : instances) {
    if (!inst.mask.defined()) continue;
    const torch::Tensor m = inst.mask.to(torch::kCPU, torch::kUInt8).contiguous();
    if (m.size(0) != original.height || m.size(1) != original.width)
      throw UserError("show_result: mask size " + std::to_string(m.size(1)) + "x" + std::to_string(m.size(0)) +
                      " does not match the image " + std::to_string(original.width) + "x" +
                      std::to_string(original.height));
    cv::Mat mask(original.height, original.width, CV_8UC1, m.data_ptr());
    if (mask.size() != img.size()) cv::resize(mask, mask, img.size(), 0, 0, cv::INTER_NEAREST);
    const Rgb color = distinct_color(palette[static_cast<size_t>(inst.label)], taken, engine);
    const cv::Rect box = cv::boundingRect(mask);
    if (box.empty()) continue;
    cv::Mat roi = img(box);
    cv::Mat solid(box.size(), img.type(), to_bgr(color));
    blend_layer(roi, solid, mask(box));
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(mask.clone(), contours, cv::RETR_CCOMP, cv::CHAIN_APPROX_NONE);
    cv::drawContours(edge_layer, contours, -1, cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
    cv::drawContours(edge_where, contours, -1, cv::Scalar(255), 1);
  }
  blend_layer(img, edge_layer, edge_where);
}

std::string label_text(const Instance& inst, const std::vector<std::string>& class_names, bool show_score) {
  const size_t label = static_cast<size_t>(inst.label);
  std::string text = label < class_names.size() ? class_names[label] : "class " + std::to_string(label);
  if (!show_score) return text;
  char score[32];
  std::snprintf(score, sizeof(score), "|%.2f", static_cast<double>(inst.score));
  return text + score;
}

}  // namespace

double adaptive_label_scale(double box_area) {
  return std::clamp(0.5 + (box_area - 800.0) / (30000.0 - 800.0), 0.5, 1.0);
}

cv::Mat draw_detections(const cv::Mat& bgr, const DetResult& result, const std::vector<std::string>& class_names,
                        const DrawOptions& options) {
  if (bgr.empty() || bgr.type() != CV_8UC3) throw UserError("show_result: expected a 3-channel uint8 BGR image");
  if (!(options.scale > 0.0)) throw UserError("show_result: the drawing scale must be positive");
  cv::Mat img;
  if (options.scale == 1.0)
    img = bgr.clone();
  else
    cv::resize(bgr, img, cv::Size(), options.scale, options.scale, cv::INTER_LINEAR);
  if (img.empty()) throw UserError("show_result: the drawing scale makes the image empty");
  const std::vector<Instance> instances = collect_instances(result, options.score_thr, options.scale);
  int64_t max_label = 0;
  for (const Instance& inst : instances) max_label = std::max(max_label, inst.label);
  const size_t n = static_cast<size_t>(max_label) + 1;
  const std::vector<Rgb> box_palette = make_palette(options.bbox_color, n);
  const std::vector<Rgb> text_palette = make_palette(options.text_color, n);
  const std::vector<Rgb> mask_palette = make_palette(options.mask_color, n);

  draw_masks(img, bgr.size(), instances, mask_palette);

  // Box outlines.
  cv::Mat layer = img.clone(), where = cv::Mat::zeros(img.size(), CV_8UC1);
  for (const Instance& inst : instances) {
    const cv::Point p1(cvRound(inst.box[0]), cvRound(inst.box[1])), p2(cvRound(inst.box[2]), cvRound(inst.box[3]));
    cv::rectangle(layer, p1, p2, to_bgr(box_palette[static_cast<size_t>(inst.label)]), options.thickness);
    cv::rectangle(where, p1, p2, cv::Scalar(255), options.thickness);
  }
  blend_layer(img, layer, where);

  // Labels: text at (x1 + thickness, y1 + thickness), top-left aligned, on a black box.
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  for (const Instance& inst : instances) {
    const double area = static_cast<double>(inst.box[3] - inst.box[1]) * static_cast<double>(inst.box[2] - inst.box[0]);
    const int px = std::max(1, static_cast<int>(options.font_size * adaptive_label_scale(area) * kDpi / 72.0 * 0.7));
    const double scale = cv::getFontScaleFromHeight(font, px, 1);
    const std::string text = label_text(inst, class_names, options.show_scores);
    int baseline = 0;
    const cv::Size size = cv::getTextSize(text, font, scale, 1, &baseline);
    const cv::Point origin(static_cast<int>(inst.box[0]) + options.thickness,
                           static_cast<int>(inst.box[1]) + options.thickness);
    const cv::Rect bg = cv::Rect(origin.x, origin.y, size.width + 2, size.height + baseline + 2) &
                        cv::Rect(0, 0, img.cols, img.rows);
    cv::Mat bg_roi = img(bg);
    bg_roi.convertTo(bg_roi, -1, 1.0 - kAlpha);  // black at alpha 0.8
    cv::putText(img, text, cv::Point(origin.x + 1, origin.y + 1 + size.height), font, scale,
                to_bgr(text_palette[static_cast<size_t>(inst.label)]), 1, cv::LINE_AA);
  }
  return img;
}

}  // namespace cppdet::visualization
