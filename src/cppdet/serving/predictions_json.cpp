#include "cppdet/serving/predictions_json.h"

#include <nlohmann/json.hpp>

#include "cppdet/evaluation/mask_rle.h"

namespace cppdet::serving {
namespace {

// COCO RLE of a [H, W] bool mask: run lengths over the column-major pixels.
nlohmann::ordered_json segmentation_json(const torch::Tensor& mask) {
  const torch::Tensor column_major = mask.to(torch::kCPU, torch::kUInt8).t().contiguous();  // [W, H]
  const auto h = static_cast<uint32_t>(mask.size(0)), w = static_cast<uint32_t>(mask.size(1));
  const evaluation::Rle rle = evaluation::rle_encode(column_major.data_ptr<uint8_t>(), h, w);
  return {{"size", {h, w}}, {"counts", evaluation::rle_to_string(rle)}};
}

}  // namespace

nlohmann::ordered_json predictions_json(const DetResult& result, const std::vector<std::string>& class_names,
                                double score_thr, bool with_masks) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (size_t c = 0; c < result.bboxes.size(); ++c) {
    const torch::Tensor boxes = result.bboxes[c].to(torch::kCPU, torch::kFloat32).contiguous();  // [k, 5]
    const float* rows = boxes.data_ptr<float>();
    for (int64_t i = 0; i < boxes.size(0); ++i) {
      const float* row = rows + 5 * i;
      if (!(static_cast<double>(row[4]) >= score_thr)) continue;
      nlohmann::ordered_json det = {
          {"class_label", static_cast<int64_t>(c)},
          {"class_name", c < class_names.size() ? class_names[c] : std::to_string(c)},
          {"bbox", {static_cast<double>(row[0]), static_cast<double>(row[1]), static_cast<double>(row[2]),
                    static_cast<double>(row[3])}},
          {"score", static_cast<double>(row[4])}};
      if (with_masks && result.has_masks()) det["segmentation"] = segmentation_json(result.masks[c][i]);
      out.push_back(std::move(det));
    }
  }
  return out;
}

}  // namespace cppdet::serving
