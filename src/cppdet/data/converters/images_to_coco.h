#pragma once
// A folder of images -> a COCO json with images and categories and no annotations, for
// `cppdet test --format-only` on data without ground truth (MMDetection's images2coco.py):
//   * every file under IMG_DIR (recursively, sorted by relative path) whose lower-cased path
//     does not end with one of the excluded extensions is an image; one that cannot be decoded
//     is an error naming it;
//   * images: id from 0, file_name = IMG_DIR joined with the relative path (as os.path.join),
//     height/width = the stored size (EXIF orientation not applied, as PIL reports it);
//   * categories: one per non-empty line of CLASSES_TXT, {"supercategory": "none", "id": 0.., "name"};
//   * top level: images, "type": "instance", categories, annotations = [].
#include <string>
#include <vector>

#include "cppdet/data/converters/converter_io.h"

namespace cppdet::data::converters {

struct ImagesToCocoOptions {
  std::string image_dir;
  std::string classes_txt;
  std::vector<std::string> exclude_extensions;  // e.g. "png" or ".png"; matched case-insensitively
  int num_threads = 1;
};

OrderedJson images_to_coco(const ImagesToCocoOptions& options);

// Where images2coco.py saves OUT: a bare file name goes to IMG_DIR/../annotations/OUT; a path
// with a folder is used as given. OUT must end with "json" (else UserError).
std::string images_to_coco_output_path(const std::string& image_dir, const std::string& out);

// Class names: the lines of a text file (trailing \r stripped), blank lines skipped.
std::vector<std::string> read_class_names(const std::string& path);

}  // namespace cppdet::data::converters
