#pragma once
// Detections in the JSON of MMDetection's TorchServe handler (mmdet 2.x
// tools/deployment/mmdet_handler.py): one image -> a list of
//   {"class_label": int, "class_name": str, "bbox": [x1, y1, x2, y2], "score": float}
// for every detection with score >= score_thr, class by class and, within a class, in
// descending score (the order of bbox_result). With masks, each entry also has
//   "segmentation": {"size": [H, W], "counts": "<COCO compressed RLE>"}
// (the `segmentation` of a COCO results file, pycocotools' mask.encode of the full-size mask).
// Keys in the handler's order (an ordered_json).
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "cppdet/structures/det_result.h"

namespace cppdet::serving {

nlohmann::ordered_json predictions_json(const DetResult& result, const std::vector<std::string>& class_names,
                                double score_thr, bool with_masks);

}  // namespace cppdet::serving
