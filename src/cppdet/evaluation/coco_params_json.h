#pragma once
// COCOeval parameter overrides given as a JSON object, by pycocotools' names:
//   {"useCats": 0, "maxDets": [1, 10, 100], "areaRng": [[0, 1e10], ...], "areaRngLbl": [...],
//    "iouThrs": [...], "recThrs": [...], "catIds": [...], "imgIds": [...]}
// Thresholds may be JSON numbers or hex-float strings ("0x1.cccccccccccccp-1") so that exact
// doubles survive. Unknown keys or wrong types throw UserError naming the key.
#include <string_view>

#include "cppdet/evaluation/coco_eval.h"

namespace cppdet::evaluation {

// `what` names the source in messages (e.g. "--params").
CocoEvalParams apply_params_json(std::string_view json_text, const std::string& what, CocoEvalParams base);

}  // namespace cppdet::evaluation
