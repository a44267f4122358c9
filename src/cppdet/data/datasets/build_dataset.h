#pragma once
// Datasets from config dicts (mmdet's build_dataset): `type` picks the dataset, the other
// keys are its constructor arguments, as in
//   data.test = dict(type='CocoDataset', ann_file='data/coco/annotations/instances_val2017.json',
//                    img_prefix='data/coco/val2017/', pipeline=test_pipeline)
// Types: CocoDataset, CityscapesDataset, VOCDataset, XMLDataset; for training also
// RepeatDataset(times, dataset), ConcatDataset(datasets) and a list-valued ann_file (with a
// matching img_prefix list), as mmdet's VOC0712 configs use.
#include <memory>
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/data/datasets/detection_dataset.h"

namespace cppdet::data {

// One dataset. `test_mode` overrides the config's test_mode (test.py sets it to True).
// `data_root` in the dict is joined to relative ann_file / img_prefix. Errors: ConfigError
// naming `path`.key; FileFormatError naming a missing or malformed annotation file.
std::shared_ptr<DetectionDataset> build_dataset(const config::Value& cfg, bool test_mode,
                                                const std::string& path = "data.test");

// A training dataset: one dataset or a wrapper of several, and the class names it trains.
struct TrainDataset {
  std::shared_ptr<const IndexedDataset> dataset;
  std::vector<std::string> classes;
};
TrainDataset build_train_dataset(const config::Value& cfg, const std::string& path = "data.train");

// mmdet's ConcatDataset: the datasets one after another (group flags concatenated).
class ConcatDataset : public IndexedDataset {
 public:
  explicit ConcatDataset(std::vector<std::shared_ptr<const IndexedDataset>> datasets);
  size_t size() const override { return offsets_.empty() ? 0 : offsets_.back(); }
  Sample get(size_t index, uint64_t rng_seed) const override;
  uint8_t group_flag(size_t index) const override;

 private:
  std::pair<size_t, size_t> locate(size_t index) const;  // (dataset, index inside it)
  std::vector<std::shared_ptr<const IndexedDataset>> datasets_;
  std::vector<size_t> offsets_;  // cumulative sizes
};

// mmdet's RepeatDataset: `times` passes over the dataset per epoch.
class RepeatDataset : public IndexedDataset {
 public:
  RepeatDataset(std::shared_ptr<const IndexedDataset> dataset, size_t times);
  size_t size() const override { return dataset_->size() * times_; }
  Sample get(size_t index, uint64_t rng_seed) const override { return dataset_->get(index % dataset_->size(), rng_seed); }
  uint8_t group_flag(size_t index) const override { return dataset_->group_flag(index % dataset_->size()); }

 private:
  std::shared_ptr<const IndexedDataset> dataset_;
  size_t times_;
};

}  // namespace cppdet::data
