#pragma once
// The base of every detection dataset (mmdet's CustomDataset): the images and their
// annotations, the class names, the pipeline that turns image + annotations into a model
// input, and the dataset's own evaluation of test results.
//
//   auto ds = data::build_dataset(cfg.as_dict().at("data").as_dict().at("test"), true, "data.test");
//   std::vector<data::Sample> inputs = ds->prepare(0);   // through the test pipeline
//   config::Dict metrics = ds->evaluate(results, {.metrics = {"bbox"}}, &std::cout);
//
// In training mode (test_mode false) images that are too small or, with filter_empty_gt,
// have no annotation of the selected classes are dropped at construction, and get() returns
// the training sample with the annotations attached for LoadAnnotations.
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/data/datasets/ann_info.h"
#include "cppdet/data/datasets/eval_options.h"
#include "cppdet/data/datasets/image_detections.h"
#include "cppdet/data/loader/indexed_dataset.h"

namespace cppdet::data {

class Compose;

struct ImageInfo {
  int64_t id = 0;        // COCO image id (XML datasets: the position in the split file)
  std::string filename;  // relative to img_prefix
  int64_t width = 0;
  int64_t height = 0;
  size_t record = 0;     // the dataset's own index of this image's annotations
};

struct DatasetOptions {
  std::string ann_file;
  std::string img_prefix;  // "" = file names are used as they are
  std::optional<std::vector<std::string>> classes;  // overrides the dataset's default classes
  config::Value pipeline;  // list of transform dicts; None = no pipeline (raw samples)
  bool test_mode = false;
  bool filter_empty_gt = true;
  std::string path = "data";  // config key path, for messages
};

class DetectionDataset : public IndexedDataset {
 public:
  ~DetectionDataset() override;

  // "CocoDataset", "VOCDataset", ...
  const std::string& type() const { return type_; }
  const std::vector<std::string>& classes() const { return classes_; }
  const DatasetOptions& options() const { return options_; }
  bool test_mode() const { return options_.test_mode; }

  size_t size() const override { return images_.size(); }
  const ImageInfo& image_info(size_t index) const { return images_.at(index); }
  // mmdet's get_ann_info: the annotations of image `index` (built on each call).
  virtual AnnInfo ann_info(size_t index) const = 0;

  // The sample before the pipeline (img_prefix, file name and, in training, the annotations).
  Sample raw_sample(size_t index) const;
  // The sample(s) the pipeline makes of image `index` (several with test-time augmentation;
  // empty when a training transform dropped it). Seeds the random transforms with rng_seed.
  std::vector<Sample> prepare(size_t index, uint64_t rng_seed = 0) const;
  // The loader's view: in training, a dropped sample is replaced by a random image of the
  // same aspect group (mmdet's _rand_another); in test mode the first augmented copy.
  Sample get(size_t index, uint64_t rng_seed) const override;
  uint8_t group_flag(size_t index) const override;

  // mmdet's dataset.evaluate: the metric dict (values rounded as mmdet does; *_copypaste
  // entries are strings), printing mmdet's evaluation output to `log` when given.
  // `results` holds one entry per image, in dataset order.
  virtual config::Dict evaluate(const std::vector<ImageDetections>& results, const EvalOptions& options,
                                std::ostream* log) const = 0;
  // mmdet's format_results: writes the dataset's result files under `prefix`; returns their
  // paths. The base class has no format: UserError.
  virtual std::vector<std::string> format_results(const std::vector<ImageDetections>& results,
                                                  const std::string& prefix) const;

 protected:
  DetectionDataset(std::string type, std::vector<std::string> default_classes, DatasetOptions options);

  // Called by the subclass's factory once its images are loaded: training-mode filtering
  // (filter_images) and group flags.
  void finish_loading(std::vector<ImageInfo> images);
  // Indices of `images` that training keeps (mmdet's _filter_imgs). Default: short side >= 32.
  virtual std::vector<size_t> filter_images(const std::vector<ImageInfo>& images) const;
  // Throws UserError unless there is one result per image with this dataset's class count.
  void check_results(const std::vector<ImageDetections>& results) const;

 private:
  std::string type_;
  std::vector<std::string> classes_;
  DatasetOptions options_;
  std::vector<ImageInfo> images_;
  std::vector<uint8_t> flags_;
  std::shared_ptr<Compose> pipeline_;
};

// mmdet's rule for `classes`: a list/tuple of names, or a str naming a file with one name
// per line. `path` names the key in errors.
std::vector<std::string> read_class_names(const config::Value& classes, const std::string& path);

}  // namespace cppdet::data
