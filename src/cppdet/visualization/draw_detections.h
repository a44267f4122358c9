#pragma once
// Drawing a detector's result on an image the way mmdet 2.25's BaseDetector.show_result /
// imshow_det_bboxes does: detections with score > score_thr, box outlines (alpha 0.8),
// "class|0.97" labels on a black box, translucent per-instance masks (alpha 0.8) with a
// white contour. Colours are RGB as in mmdet; images are BGR as in OpenCV.
#include <opencv2/core/mat.hpp>

#include <optional>
#include <string>
#include <vector>

#include "cppdet/structures/det_result.h"
#include "cppdet/visualization/palette.h"

namespace cppdet::visualization {

struct DrawOptions {
  double score_thr = 0.3;
  std::optional<Rgb> bbox_color = Rgb{72, 101, 241};  // nullopt: the random class palette
  std::optional<Rgb> text_color = Rgb{72, 101, 241};
  std::optional<Rgb> mask_color;                      // nullopt: the random class palette
  int thickness = 2;
  double font_size = 13;  // points at 100 dpi; scaled by box area (0.5x .. 1x)
  bool show_scores = true;  // false: labels are the class name only (ground truth has no scores)
  // The drawing is made on the image resized by this factor (boxes and masks follow), so that
  // labels stay legible on small images; thickness and font sizes are in output pixels.
  double scale = 1.0;
};

// A drawn copy of `bgr` (3-channel uint8). `class_names` may be shorter than the number of
// classes (missing names print as the class index).
cv::Mat draw_detections(const cv::Mat& bgr, const DetResult& result, const std::vector<std::string>& class_names,
                        const DrawOptions& options = {});

// mmdet's adaptive label scale: clip(0.5 + (area - 800) / (30000 - 800), 0.5, 1.0).
double adaptive_label_scale(double box_area);

}  // namespace cppdet::visualization
