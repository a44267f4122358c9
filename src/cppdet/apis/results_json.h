#pragma once
// Detection results as JSON in the layout of the MMDetection oracle's outputs.json (see
// docs/inference.md): per image `file`, `ori_shape`, `img_shape`, `pad_shape`,
// `scale_factor`, `bbox_result` (per class [[x1, y1, x2, y2, score], ...]), `segm_result`
// for mask models (per class, per detection, COCO RLE {size, counts, counts_str, area}) and
// `num_detections`; with a debug trace also the intermediate statistics.
#include <memory>
#include <string>

#include "cppdet/apis/inference.h"

namespace cppdet::apis {

class ResultsJsonWriter {
 public:
  explicit ResultsJsonWriter(const InferenceModel& model);
  ~ResultsJsonWriter();

  // Adds one image; `trace` (batch of one image) adds backbone/neck/RPN/RoI statistics.
  void add(const std::string& file, const ImageMeta& meta, const DetResult& result,
           const models::DebugTrace* trace = nullptr);
  // Writes everything added so far (atomically); FileFormatError when it cannot.
  void write(const std::string& path) const;
  std::string dump() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "FasterRCNN" -> "faster_rcnn", "MaskRCNN" -> "mask_rcnn", "RetinaNet" -> "retina_net".
std::string snake_case(const std::string& camel);

}  // namespace cppdet::apis
