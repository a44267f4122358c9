#pragma once
// Helpers shared by the converter tests: reading the written json, and evaluating a COCO
// ground truth against itself (every non-crowd instance given back as a detection of score 1).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "cppdet/evaluation/coco_eval.h"
#include "cppdet/evaluation/coco_json.h"

namespace cppdet::data::converters::testing {

inline nlohmann::ordered_json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::ordered_json::parse(in);
}

// COCO AP (stats[0]) of the ground truth in `gt_path` evaluated against its own instances.
// The converters number annotations from 0, as MMDetection's do, and pycocotools' COCOeval
// (which coco_eval.h reproduces) never counts a match with the ground truth of id 0 (it
// stores matched ids and tests them for > 0). `shift_ids` renumbers the annotations from 1
// first, so that the result is 1.0 exactly when the content is right.
inline double self_evaluation_ap(const std::string& gt_path, evaluation::IouType type, bool shift_ids = true) {
  using namespace cppdet::evaluation;
  nlohmann::ordered_json raw = read_json(gt_path);
  std::string path = gt_path;
  if (shift_ids && raw.contains("annotations")) {
    for (auto& a : raw["annotations"]) a["id"] = a["id"].get<int64_t>() + 1;
    path = gt_path + ".ids_from_1.json";
    std::ofstream(path) << raw.dump();
  }
  const CocoGroundTruth gt = load_coco_ground_truth(path);
  nlohmann::json results = nlohmann::json::array();
  if (raw.contains("annotations"))
    for (const auto& a : raw["annotations"]) {
      if (a["iscrowd"].get<int>() != 0) continue;
      nlohmann::json r{{"image_id", a["image_id"]}, {"category_id", a["category_id"]}, {"score", 1.0}};
      if (type == IouType::kBbox) {
        r["bbox"] = a["bbox"];
      } else {
        // Polygons are given back as the RLE pycocotools would make of them.
        const CocoAnnotation* ann = nullptr;
        for (const CocoAnnotation& g : gt.annotations())
          if (g.id == a["id"].get<int64_t>()) ann = &g;
        const CocoImage& img = gt.images[gt.image_index(ann->image_id)];
        const Rle rle = gt.store.to_rle(*ann, img.height, img.width);
        r["segmentation"] = {{"size", {rle.h, rle.w}}, {"counts", rle_to_string(rle)}};
      }
      results.push_back(r);
    }
  const CocoResults dt = parse_coco_results(results.dump(), "self-results", gt);
  return evaluate_coco(gt, dt, CocoEvalParams::defaults(type)).stats[0];
}

inline bool exists(const std::string& path) { return std::filesystem::exists(path); }

}  // namespace cppdet::data::converters::testing
