#pragma once
// Writing and showing drawn images (mmcv.imwrite / imshow).
#include <opencv2/core/mat.hpp>

#include <string>

namespace cppdet::visualization {

// Writes `img` (BGR) to `path`, creating missing parent directories; the format follows the
// extension. Throws FileFormatError naming the file on failure.
void write_image(const std::string& path, const cv::Mat& img);

// Whether a window can be opened (an X11 or Wayland display is set).
bool display_available();

// Shows `img` in window `name` and waits `wait_ms` (0: until a key). Returns the key code
// (-1 when none). Throws UserError when no display is available.
int show_image(const std::string& name, const cv::Mat& img, int wait_ms);

}  // namespace cppdet::visualization
