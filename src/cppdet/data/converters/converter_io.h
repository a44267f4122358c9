#pragma once
// Shared plumbing of the dataset converters (via2coco, images2coco, cityscapes, voc): reading
// inputs with errors that name the file, image sizes, work spread over threads with a progress
// bar, and COCO json written atomically (a failed conversion leaves no output file).
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>

namespace cppdet::data::converters {

// JSON objects keep their keys in file order (VIA image order is the dict order).
using OrderedJson = nlohmann::ordered_json;

// Parses a JSON file; FileFormatError "<path>: invalid JSON at byte N: ..." when malformed,
// "<path>: cannot open ..." when missing.
OrderedJson read_json_file(const std::string& path);

struct ImageSize {
  int height = 0;
  int width = 0;
};

// Decodes an image to learn its size. `apply_exif_orientation` = OpenCV's IMREAD_COLOR
// (mmcv.imread's default 'color' flag); false = the stored size (PIL's Image.open(...).size).
// FileFormatError naming the file when it is missing or cannot be decoded.
ImageSize read_image_size(const std::string& path, bool apply_exif_orientation);

// Runs task(i) for i in [0, n) on `num_threads` threads (<= 1: in this thread), advancing an
// mmcv-style progress bar on stderr. The first exception thrown by a task stops the remaining
// work and is rethrown here.
void run_with_progress(size_t n, int num_threads, const std::function<void(size_t)>& task);

// Writes `json` to `path` (parent folders created) through a temporary file renamed at the end.
void write_json_file(const std::string& path, const OrderedJson& json);

}  // namespace cppdet::data::converters
