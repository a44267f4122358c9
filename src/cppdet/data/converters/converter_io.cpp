#include "cppdet/data/converters/converter_io.h"

#include <atomic>
#include <exception>
#include <filesystem>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <thread>
#include <vector>

#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"
#include "cppdet/core/progress_bar.h"

namespace cppdet::data::converters {

namespace fs = std::filesystem;

OrderedJson read_json_file(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return OrderedJson::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw FileFormatError(path + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  }
}

ImageSize read_image_size(const std::string& path, bool apply_exif_orientation) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw FileFormatError(path + ": image file not found");
  cv::Mat img;
  try {
    img = cv::imread(path, apply_exif_orientation ? cv::IMREAD_COLOR : cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw FileFormatError(path + ": cannot decode the image (" + e.what() + ")");
  }
  if (img.empty()) throw FileFormatError(path + ": cannot decode the image (not an image OpenCV can read, or corrupt)");
  return {img.rows, img.cols};
}

void run_with_progress(size_t n, int num_threads, const std::function<void(size_t)>& task) {
  ProgressBar bar(n);
  if (num_threads <= 1 || n <= 1) {
    for (size_t i = 0; i < n; ++i) {
      task(i);
      bar.update();
    }
    bar.finish();
    return;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex mutex;  // guards the bar and first_error
  auto worker = [&] {
    for (size_t i = next++; i < n && !failed; i = next++) {
      try {
        task(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!first_error) first_error = std::current_exception();
        failed = true;
        return;
      }
      std::lock_guard<std::mutex> lock(mutex);
      bar.update();
    }
  };
  const size_t count = std::min(static_cast<size_t>(num_threads), n);
  std::vector<std::thread> threads;
  threads.reserve(count);
  for (size_t t = 0; t < count; ++t) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();
  bar.finish();
  if (first_error) std::rethrow_exception(first_error);
}

void write_json_file(const std::string& path, const OrderedJson& json) {
  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) throw FileFormatError(parent.string() + ": cannot create the output folder (" + ec.message() + ")");
  write_file_atomically(path, [&](std::ostream& out) { out << json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n"; });
}

}  // namespace cppdet::data::converters
