#include "cppdet/data/datasets/image_detections.h"

namespace cppdet::data {

ImageDetections encode_detections(const DetResult& result) {
  ImageDetections out;
  for (const torch::Tensor& b : result.bboxes) out.bboxes.push_back(b.to(torch::kCPU, torch::kFloat32).contiguous());
  for (const torch::Tensor& class_masks : result.masks) {
    std::vector<evaluation::Rle> rles;
    for (int64_t i = 0; i < class_masks.size(0); ++i) {
      const torch::Tensor m = class_masks[i];
      // The row-major bytes of the [W, H] transpose are the column-major bytes of the mask.
      const torch::Tensor cm = m.to(torch::kCPU, torch::kUInt8).t().contiguous();
      rles.push_back(evaluation::rle_encode(cm.data_ptr<uint8_t>(), static_cast<uint32_t>(m.size(0)),
                                            static_cast<uint32_t>(m.size(1))));
    }
    out.masks.push_back(std::move(rles));
  }
  return out;
}

}  // namespace cppdet::data
