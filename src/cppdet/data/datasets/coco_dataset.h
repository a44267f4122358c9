#pragma once
// mmdet 2.25's CocoDataset: a COCO instances json (images in file order), classes looked up
// by category name, crowd boxes as ignore boxes, segmentations kept for masks, and COCO
// evaluation (bbox / segm / proposal / proposal_fast) with mmdet's metric keys.
//
// Category order: cat_ids are the json's categories (in file order) whose name is one of
// the classes, and label i is cat_ids[i] — pycocotools' getCatIds(catNms=classes), which
// keeps file order whatever the order of `classes`.
#include <memory>
#include <unordered_map>
#include <vector>

#include "cppdet/data/datasets/detection_dataset.h"
#include "cppdet/evaluation/coco_json.h"

namespace cppdet::data {

// CocoDataset.CLASSES: the 80 COCO names ("person", ..., "traffic light", ...).
const std::vector<std::string>& coco_classes();

class CocoDataset : public DetectionDataset {
 public:
  // Reads options.ann_file (FileFormatError naming the file when missing or malformed).
  static std::shared_ptr<CocoDataset> create(DatasetOptions options);

  AnnInfo ann_info(size_t index) const override;
  config::Dict evaluate(const std::vector<ImageDetections>& results, const EvalOptions& options,
                        std::ostream* log) const override;
  // Writes <prefix>.bbox.json (and <prefix>.segm.json for mask results); returns the paths.
  std::vector<std::string> format_results(const std::vector<ImageDetections>& results,
                                          const std::string& prefix) const override;

  const evaluation::CocoGroundTruth& coco() const { return *gt_; }
  const std::vector<int64_t>& cat_ids() const { return cat_ids_; }
  // COCO image ids in dataset order.
  std::vector<int64_t> img_ids() const;

 protected:
  CocoDataset(std::string type, std::vector<std::string> default_classes, DatasetOptions options);
  void load();
  std::vector<size_t> filter_images(const std::vector<ImageInfo>& images) const override;

  // Dataset variations (CityscapesDataset): skip annotations whose box misses the image;
  // drop training images whose annotations are all crowd.
  bool skip_boxes_outside_image_ = true;
  bool drop_all_crowd_images_ = false;
  std::vector<double> default_iou_thrs_;  // empty: 0.50:0.05:0.95 (np.linspace)

 private:
  std::shared_ptr<const evaluation::CocoGroundTruth> gt_;
  std::vector<std::vector<uint32_t>> anns_of_image_;  // per gt image index: annotation indices in file order
  std::vector<int64_t> cat_ids_;
  std::unordered_map<int64_t, int64_t> cat2label_;
};

}  // namespace cppdet::data
