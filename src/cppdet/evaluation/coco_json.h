#pragma once
// COCO json files read into compact typed records (SAX events from json_events.h, no DOM), with
// pycocotools' semantics: ground truth as `COCO(annotation_file)` holds it, detections as
// `COCO.loadRes(results_file)` turns them into annotations.
//
// Segmentations live in shared pools (polygon coordinates, RLE counts, compressed strings), so
// an annotation is a fixed-size record; a 448 MB instances_train2017-sized file needs well
// under 3 GB.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cppdet/evaluation/mask_rle.h"

namespace cppdet::evaluation {

struct CocoImage {
  int64_t id = 0;
  int32_t width = 0;
  int32_t height = 0;
  std::string file_name;
};

struct CocoCategory {
  int64_t id = 0;
  std::string name;
  std::string supercategory;
};

enum class SegmentationKind : uint8_t {
  kNone,        // no "segmentation" field
  kPolygons,    // list of rings [x0, y0, x1, y1, ...]
  kRleCounts,   // {"size": [h, w], "counts": [..]} (uncompressed RLE)
  kRleString,   // {"size": [h, w], "counts": "..."} (compressed RLE)
  kBoxPolygon,  // loadRes' bbox branch: the polygon of the box corners, made from `bbox`
};

// One element of "annotations" (ground truth) or of a results file (detections).
struct CocoAnnotation {
  int64_t id = 0;
  int64_t image_id = 0;
  int64_t category_id = 0;
  BoxXywh bbox{0, 0, 0, 0};  // [x, y, w, h]
  double area = 0;
  double score = 0;          // detections only
  bool iscrowd = false;
  bool ignore = false;       // the optional "ignore" flag (mmdet's CocoDataset reads it; COCOeval does not)
  bool has_bbox = false;
  bool has_area = false;
  bool has_score = false;
  SegmentationKind segmentation = SegmentationKind::kNone;
  uint32_t rle_h = 0, rle_w = 0;  // "size" of an RLE segmentation
  uint32_t seg_size = 0;          // rings, counts or characters
  uint64_t seg_begin = 0;         // first ring / count / character in the store's pools
};

// Annotations plus the pools their segmentations point into.
struct CocoAnnotationStore {
  std::vector<CocoAnnotation> annotations;
  std::vector<uint64_t> ring_begin;  // ring r spans coords[ring_begin[r], ring_end(r))
  std::vector<double> coords;
  std::vector<uint32_t> counts;
  std::string chars;

  uint64_t ring_end(uint64_t ring) const { return ring + 1 < ring_begin.size() ? ring_begin[ring + 1] : coords.size(); }
  // The polygon rings of a kPolygons annotation.
  std::vector<std::vector<double>> polygons(const CocoAnnotation& ann) const;
  // The mask as pycocotools' annToRLE makes it: polygons are rasterised at the image size
  // (image_h x image_w) and unioned; RLEs keep their own "size" and counts.
  Rle to_rle(const CocoAnnotation& ann, uint32_t image_h, uint32_t image_w) const;
};

// Ground truth (`COCO(path)`): images, annotations and categories in file order.
struct CocoGroundTruth {
  std::string source;  // file name used in messages
  std::vector<CocoImage> images;
  std::vector<CocoCategory> categories;
  CocoAnnotationStore store;

  const std::vector<CocoAnnotation>& annotations() const { return store.annotations; }
  // Index of the image / category with this id, or -1.
  int64_t image_index(int64_t image_id) const;
  int64_t category_index(int64_t category_id) const;
  // Rebuilds the id -> index maps (called by the loaders; call it after editing images/categories).
  void build_index();

 private:
  std::unordered_map<int64_t, int64_t> image_by_id_;
  std::unordered_map<int64_t, int64_t> category_by_id_;
};

// Detections after loadRes: ids 1..N in file order, iscrowd 0, area and bbox filled in.
struct CocoResults {
  std::string source;
  CocoAnnotationStore store;
  bool from_boxes = false;  // true when loadRes took the bbox branch (first record has a non-empty bbox)

  const std::vector<CocoAnnotation>& detections() const { return store.annotations; }
};

// Reads a COCO annotation file. Throws FileFormatError naming the file (and the byte offset,
// line and column of malformed JSON, or the record and key of a wrong value).
CocoGroundTruth load_coco_ground_truth(const std::string& path);
// The same from text in memory; `source` names it in messages.
CocoGroundTruth parse_coco_ground_truth(std::string_view json, const std::string& source);

// Reads a results file (a JSON array of {"image_id", "category_id", "bbox" | "segmentation",
// "score"}) and applies loadRes' rules against `gt`. A result whose image id is not in the
// ground truth is an error naming the id.
CocoResults load_coco_results(const std::string& path, const CocoGroundTruth& gt);
CocoResults parse_coco_results(std::string_view json, const std::string& source, const CocoGroundTruth& gt);
// loadRes' rules applied to records built in memory (e.g. by `cppdet test`): each needs
// image_id, category_id, score and a bbox or an RLE segmentation.
CocoResults make_coco_results(CocoAnnotationStore records, const std::string& source, const CocoGroundTruth& gt);

}  // namespace cppdet::evaluation
