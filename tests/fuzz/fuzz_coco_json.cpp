// libFuzzer target: the COCO annotation / results loaders on arbitrary bytes. Any input must
// either load or throw FileFormatError; a loaded pair is also evaluated (bbox and segm).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cppdet/core/error.h"
#include "cppdet/evaluation/coco_eval.h"
#include "cppdet/evaluation/coco_json.h"

using namespace cppdet::evaluation;

namespace {

// A small valid ground truth that fuzzed results are checked against.
const CocoGroundTruth& base_gt() {
  static const CocoGroundTruth gt = parse_coco_ground_truth(
      R"({"images":[{"id":1,"width":16,"height":12},{"id":2,"width":8,"height":8}],
          "annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[1,1,5,5],"area":25,"iscrowd":0,"segmentation":[[1,1,6,1,6,6,1,6]]},
                         {"id":2,"image_id":2,"category_id":2,"bbox":[0,0,4,4],"area":16,"iscrowd":1,"segmentation":{"size":[8,8],"counts":[0,4,4,4,52]}}],
          "categories":[{"id":1,"name":"a"},{"id":2,"name":"b"}]})",
      "base_gt.json");
  return gt;
}

// Keeps rasterisation bounded: fuzzed images and RLE sizes can claim huge masks.
bool small_enough(const CocoGroundTruth& gt) {
  for (const CocoImage& im : gt.images)
    if (im.width < 0 || im.height < 0 || static_cast<int64_t>(im.width) * im.height > (1 << 16)) return false;
  for (const CocoAnnotation& a : gt.annotations())
    if (static_cast<uint64_t>(a.rle_h) * a.rle_w > (1u << 16) || a.seg_size > 4096) return false;
  return gt.images.size() < 64 && gt.annotations().size() < 256;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const CocoGroundTruth gt = parse_coco_ground_truth(text, "fuzz_gt.json");
    if (small_enough(gt)) {
      const CocoResults none = parse_coco_results("[]", "empty.json", gt);
      for (IouType t : {IouType::kBbox, IouType::kSegm}) {
        try {
          evaluate_coco(gt, none, CocoEvalParams::defaults(t));
        } catch (const cppdet::UserError&) {
        }
      }
    }
  } catch (const cppdet::UserError&) {
  }
  try {
    const CocoResults res = parse_coco_results(text, "fuzz_dt.json", base_gt());
    bool small = res.detections().size() < 256;
    for (const CocoAnnotation& a : res.detections())
      small = small && static_cast<uint64_t>(a.rle_h) * a.rle_w <= (1u << 16) && a.seg_size <= 4096;
    if (small) {
      for (IouType t : {IouType::kBbox, IouType::kSegm}) {
        try {
          evaluate_coco(base_gt(), res, CocoEvalParams::defaults(t));
        } catch (const cppdet::UserError&) {
        }
      }
    }
  } catch (const cppdet::UserError&) {
  }
  return 0;
}
