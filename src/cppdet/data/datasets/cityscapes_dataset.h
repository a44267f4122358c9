#pragma once
// mmdet 2.25's CityscapesDataset: COCO-format annotations as written by mmdet's cityscapes
// converter (instancesonly_filtered_gtFine_*.json), the 8 instance classes, and its own
// rules: no box-inside-image check, and training drops images whose annotations are all
// crowd. Evaluation is COCO's (bbox / segm) with iou_thrs np.arange(0.5, 0.96, 0.05); the
// cityscapesscripts metric ('cityscapes') is not available.
#include "cppdet/data/datasets/coco_dataset.h"

namespace cppdet::data {

const std::vector<std::string>& cityscapes_classes();

class CityscapesDataset : public CocoDataset {
 public:
  static std::shared_ptr<CityscapesDataset> create(DatasetOptions options);

 private:
  explicit CityscapesDataset(DatasetOptions options);
};

// np.arange(start, stop, step) for floats, bit for bit (start + i * (first step actually taken)).
std::vector<double> numpy_arange(double start, double stop, double step);

}  // namespace cppdet::data
