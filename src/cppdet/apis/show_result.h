#pragma once
// mmdet's show_result / show_result_pyplot for the C++ API: draw a result on its image, write
// it to a file and/or show it in a window.
#include <opencv2/core/mat.hpp>

#include <string>

#include "cppdet/apis/inference.h"
#include "cppdet/visualization/draw_detections.h"

namespace cppdet::apis {

struct ShowOptions {
  visualization::DrawOptions draw;  // score_thr 0.3, mmdet's colours, thickness 2, font 13
  std::string out_file;             // written when non-empty (directories created)
  bool show = false;                // open a window (only when a display exists; else a warning)
  std::string win_name = "result";
  int wait_time = 0;                // ms the window waits; 0 = until a key
};

// Returns the drawn image (BGR). Class names come from `model`.
cv::Mat show_result(const InferenceModel& model, const cv::Mat& bgr_image, const DetResult& result,
                    const ShowOptions& options = {});
cv::Mat show_result(const InferenceModel& model, const std::string& image_path, const DetResult& result,
                    const ShowOptions& options = {});

}  // namespace cppdet::apis
