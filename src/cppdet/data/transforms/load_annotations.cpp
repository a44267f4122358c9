#include "cppdet/data/transforms/load_annotations.h"

#include "cppdet/core/error.h"

namespace cppdet::data {

torch::Tensor mask_annotation_to_bitmap(const MaskAnnotation& mask, int64_t h, int64_t w, const std::string& where) {
  using evaluation::Rle;
  const uint32_t uh = static_cast<uint32_t>(h), uw = static_cast<uint32_t>(w);
  Rle rle;
  switch (mask.kind) {
    case MaskAnnotation::Kind::kPolygons: {
      std::vector<Rle> rings;
      for (const std::vector<double>& ring : mask.polygons) rings.push_back(evaluation::rle_from_polygon(ring, uh, uw));
      rle = evaluation::rle_merge(rings, /*intersect=*/false);
      if (rings.empty()) rle = Rle{uh, uw, {uh * uw}};
      break;
    }
    case MaskAnnotation::Kind::kRle:
      if (mask.rle.h != uh || mask.rle.w != uw)
        throw FileFormatError(where + ": an RLE segmentation has size [" + std::to_string(mask.rle.h) + ", " +
                              std::to_string(mask.rle.w) + "] but the image is [" + std::to_string(h) + ", " +
                              std::to_string(w) + "]");
      rle = mask.rle;
      break;
    case MaskAnnotation::Kind::kNone:
      throw FileFormatError(where + ": an annotation has no segmentation, so masks cannot be loaded");
  }
  const std::vector<uint8_t> column_major = evaluation::rle_decode(rle);
  // Column-major h*w bytes are the row-major bytes of the [w, h] transpose.
  return torch::from_blob(const_cast<uint8_t*>(column_major.data()), {w, h}, torch::kUInt8).t().contiguous();
}

void LoadAnnotations::apply(Sample& sample) {
  if (!sample.ann_info)
    throw UserError("LoadAnnotations: image '" + sample.img_file +
                    "' has no annotations (LoadAnnotations needs a training dataset; test pipelines do not load them)");
  const AnnInfo& ann = *sample.ann_info;
  if (options_.with_bbox) {
    sample.gt_bboxes = ann.bboxes.clone();
    if (ann.bboxes_ignore.defined()) sample.gt_bboxes_ignore = ann.bboxes_ignore.clone();
  }
  if (options_.with_label) sample.gt_labels = ann.labels.clone();
  if (options_.with_mask) {
    const int64_t n = ann.bboxes.defined() ? ann.bboxes.size(0) : 0;
    if (static_cast<int64_t>(ann.masks.size()) != n)
      throw UserError("LoadAnnotations: image '" + sample.img_file + "' has " + std::to_string(n) + " boxes but " +
                      std::to_string(ann.masks.size()) + " masks (does the dataset carry segmentations?)");
    torch::Tensor masks = torch::zeros({n, ann.height, ann.width}, torch::kUInt8);
    const std::string where = "image '" + sample.img_file + "'";
    for (int64_t i = 0; i < n; ++i)
      masks[i].copy_(mask_annotation_to_bitmap(ann.masks[static_cast<size_t>(i)], ann.height, ann.width, where));
    sample.gt_masks = masks;
  }
}

}  // namespace cppdet::data
