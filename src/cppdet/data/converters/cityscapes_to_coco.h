#pragma once
// Cityscapes gtFine instance maps -> COCO instances json per split, as MMDetection's
// tools/dataset_converters/cityscapes.py:
//   * images: <root>/<img_dir>/<split>/<city>/*.png (one folder level, as its glob), each must end
//     with "leftImg8bit.png"; sorted by path (the Python tool keeps directory order);
//     instance map = <root>/<gt_dir>/<split>/<city>/<stem>gtFine_instanceIds.png;
//   * one annotation per distinct instance-map value v >= 24 (ascending) whose label
//     (v / 1000 when v >= 1000, else v) has instances and is evaluated: the 8 classes person 24,
//     rider 25, car 26, truck 27, bus 28, train 31, motorcycle 32, bicycle 33 (caravan 29 and
//     trailer 30 are skipped); category_id = the Cityscapes label id; iscrowd = v < 1000 (a
//     group region); segmentation = COCO RLE {size: [h, w], counts: compressed string} of the
//     v-pixels (column-major); area = its pixel count; bbox = its tight [x, y, w, h] (floats);
//   * images {file_name "<city>/<name>", height, width, segm_file "<city>/<stem>gtFine_labelIds.png", id};
//     annotations {iscrowd, category_id, bbox, area, segmentation, image_id, id}, ids from 0;
//     categories [{id, name}] of the 8 classes; no "annotations" key when a split has none.
// Writes instancesonly_filtered_gtFine_<split>.json for each of train, val, test present.
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "cppdet/data/converters/converter_io.h"

namespace cppdet::data::converters {

struct CityscapesOptions {
  std::string root;
  std::string img_dir = "leftImg8bit";
  std::string gt_dir = "gtFine";
  int num_threads = 1;
};

struct CityscapesSplit {
  std::string split;      // train / val / test
  std::string json_name;  // instancesonly_filtered_gtFine_<split>.json
  OrderedJson coco;
};

// Converts every split folder that exists (at least one must); `notes` receives skipped splits.
std::vector<CityscapesSplit> cityscapes_to_coco(const CityscapesOptions& options,
                                                 std::vector<std::string>* notes = nullptr);

// The annotations (without image_id / id) of one instance-id map (one channel, 8/16-bit
// unsigned or 32-bit signed); `source` names the file in errors.
OrderedJson cityscapes_instances(const cv::Mat& instance_map, const std::string& source);

}  // namespace cppdet::data::converters
