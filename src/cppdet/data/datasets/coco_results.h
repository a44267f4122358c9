#pragma once
// mmdet's results2json: test results as COCO result records (bbox: image_id, [x, y, w, h],
// score, category_id; segm: the same plus an RLE "segmentation"), and the JSON files
// <prefix>.bbox.json / <prefix>.segm.json written exactly as Python's json.dump writes them.
#include <cstdint>
#include <string>
#include <vector>

#include "cppdet/data/datasets/image_detections.h"
#include "cppdet/evaluation/coco_json.h"

namespace cppdet::data {

struct CocoResultRecords {
  evaluation::CocoAnnotationStore bbox;
  evaluation::CocoAnnotationStore segm;  // empty for box-only results; records keep their bbox
};

// Records ordered by image, class, detection. Box w/h are x2 - x1, y2 - y1 in double (no +1);
// `cat_ids[label]` is the category of class `label`.
CocoResultRecords coco_result_records(const std::vector<ImageDetections>& results, const std::vector<int64_t>& img_ids,
                                      const std::vector<int64_t>& cat_ids);

// Writes records as a JSON array (atomically). Segmentation records carry {"size", "counts"}
// with the compressed counts string.
void write_coco_results_json(const std::string& path, const evaluation::CocoAnnotationStore& records);

}  // namespace cppdet::data
