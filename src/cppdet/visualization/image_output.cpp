#include "cppdet/visualization/image_output.h"

#include <opencv2/highgui.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdlib>
#include <filesystem>

#include "cppdet/core/error.h"

namespace cppdet::visualization {

void write_image(const std::string& path, const cv::Mat& img) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) throw FileFormatError("cannot create directory " + parent.string() + ": " + ec.message());
  bool ok = false;
  try {
    ok = cv::imwrite(path, img);
  } catch (const cv::Exception& e) {
    throw FileFormatError("cannot write image " + path + ": " + e.err);
  }
  if (!ok) throw FileFormatError("cannot write image " + path + " (unknown extension or unwritable location)");
}

bool display_available() {
  const char* x11 = std::getenv("DISPLAY");
  const char* wayland = std::getenv("WAYLAND_DISPLAY");
  return (x11 && *x11) || (wayland && *wayland);
}

int show_image(const std::string& name, const cv::Mat& img, int wait_ms) {
  if (!display_available()) throw UserError("cannot show a window: no display (DISPLAY is not set)");
  try {
    cv::imshow(name, img);
    return cv::waitKey(wait_ms);
  } catch (const cv::Exception& e) {
    throw UserError("cannot show a window: " + e.err);
  }
}

}  // namespace cppdet::visualization
