#pragma once
// Per-image metadata produced by the data pipeline and consumed by models (mmdet's img_metas).
#include <array>
#include <string>

namespace cppdet {

struct ImageMeta {
  std::string filename;           // path the image was read from ("" for in-memory images)
  std::array<int64_t, 3> ori_shape{};  // [h, w, c] of the decoded image
  std::array<int64_t, 3> img_shape{};  // [h, w, c] after Resize (unpadded): all box clipping uses this
  std::array<int64_t, 3> pad_shape{};  // [h, w, c] after Pad
  // [w_scale, h_scale, w_scale, h_scale] as float32 values: new_w / w, new_h / h.
  std::array<float, 4> scale_factor{1.f, 1.f, 1.f, 1.f};
  bool flip = false;
  std::string flip_direction;  // "horizontal" | "vertical" | "diagonal" when flip
};

}  // namespace cppdet
