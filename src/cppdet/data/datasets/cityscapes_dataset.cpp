#include "cppdet/data/datasets/cityscapes_dataset.h"

#include <cmath>

namespace cppdet::data {

const std::vector<std::string>& cityscapes_classes() {
  static const std::vector<std::string> names = {"person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle"};
  return names;
}

std::vector<double> numpy_arange(double start, double stop, double step) {
  const auto n = static_cast<int64_t>(std::ceil((stop - start) / step));
  std::vector<double> out;
  if (n <= 0) return out;
  out.push_back(start);
  if (n == 1) return out;
  const double second = start + step;
  const double delta = second - start;  // numpy fills with the difference of the first two values
  for (int64_t i = 1; i < n; ++i) out.push_back(start + static_cast<double>(i) * delta);
  return out;
}

CityscapesDataset::CityscapesDataset(DatasetOptions options)
    : CocoDataset("CityscapesDataset", cityscapes_classes(), std::move(options)) {
  skip_boxes_outside_image_ = false;
  drop_all_crowd_images_ = true;
  default_iou_thrs_ = numpy_arange(0.5, 0.96, 0.05);
}

std::shared_ptr<CityscapesDataset> CityscapesDataset::create(DatasetOptions options) {
  std::shared_ptr<CityscapesDataset> ds(new CityscapesDataset(std::move(options)));
  ds->load();
  return ds;
}

}  // namespace cppdet::data
