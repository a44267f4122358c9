#pragma once
// mmdet's LoadAnnotations: copies the dataset's annotations of the image (Sample::ann_info)
// into gt_bboxes / gt_bboxes_ignore / gt_labels, and rasterises instance masks into gt_masks
// ([n, H, W] uint8 bitmaps at the annotation's image size, as BitmapMasks with poly2mask).
#include "cppdet/data/transforms/transform.h"

namespace cppdet::data {

// The bitmap of one instance: polygons are rasterised at h x w and unioned (pycocotools'
// frPyObjects + merge + decode); an RLE must have that size. Returns [h, w] uint8 {0, 1}.
// `where` names the image in errors.
torch::Tensor mask_annotation_to_bitmap(const MaskAnnotation& mask, int64_t h, int64_t w, const std::string& where);

class LoadAnnotations : public SampleTransform {
 public:
  struct Options {
    bool with_bbox = true;
    bool with_label = true;
    bool with_mask = false;
  };
  explicit LoadAnnotations(Options options) : options_(options) {}
  void apply(Sample& sample) override;

 private:
  Options options_;
};

}  // namespace cppdet::data
