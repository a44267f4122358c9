#include "cppdet/apis/show_result.h"

#include "cppdet/core/warnings.h"
#include "cppdet/data/transforms/loading.h"
#include "cppdet/visualization/image_output.h"

namespace cppdet::apis {

cv::Mat show_result(const InferenceModel& model, const cv::Mat& bgr_image, const DetResult& result,
                    const ShowOptions& options) {
  cv::Mat drawn = visualization::draw_detections(bgr_image, result, model.class_names, options.draw);
  if (!options.out_file.empty()) visualization::write_image(options.out_file, drawn);
  if (options.show) {
    if (visualization::display_available()) {
      visualization::show_image(options.win_name, drawn, options.wait_time);
    } else {
      warn_once("show", "--show ignored: no display (DISPLAY is not set)");
    }
  }
  return drawn;
}

cv::Mat show_result(const InferenceModel& model, const std::string& image_path, const DetResult& result,
                    const ShowOptions& options) {
  return show_result(model, data::read_image_bgr(image_path), result, options);
}

}  // namespace cppdet::apis
