#pragma once
// mmdet 2.25's XMLDataset / VOCDataset: an image-set file (ImageSets/Main/<split>.txt, one
// image id per line) and one Pascal-VOC XML file per image under <img_prefix>/Annotations.
// Boxes are int(float(text)) - 1 (VOC's 1-based pixels); difficult objects, and with
// `min_size` objects smaller than it, become ignore boxes. VOCDataset evaluates with
// eval_map: 11-point AP for VOC2007, area AP otherwise, legacy +1 box sizes; XMLDataset with
// area AP and no +1 (CustomDataset.evaluate).
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cppdet/data/datasets/detection_dataset.h"

namespace cppdet::data {

const std::vector<std::string>& voc_classes();

class XmlDataset : public DetectionDataset {
 public:
  struct XmlOptions {
    std::optional<double> min_size;  // boxes narrower or shorter than this are ignored (training)
    std::string img_subdir = "JPEGImages";
    std::string ann_subdir = "Annotations";
  };
  // type "VOCDataset" infers the year from img_prefix (VOC2007 / VOC2012) and uses VOC's
  // classes by default; "XMLDataset" needs `classes`.
  static std::shared_ptr<XmlDataset> create(const std::string& type, DatasetOptions options, XmlOptions xml);

  AnnInfo ann_info(size_t index) const override;
  // metrics: "mAP" (default) or "recall"; options.iou_thrs (default 0.5), proposal_nums.
  config::Dict evaluate(const std::vector<ImageDetections>& results, const EvalOptions& options,
                        std::ostream* log) const override;

  int year() const { return year_; }  // 2007, 2012, or 0 for a plain XMLDataset

 private:
  struct Object {
    std::string name;
    bool difficult = false;
    std::array<int64_t, 4> box{};  // int(float(text)) as in the file (1-based)
  };
  struct Record {
    std::string image_id;
    std::vector<Object> objects;
  };
  XmlDataset(const std::string& type, std::vector<std::string> default_classes, DatasetOptions options, XmlOptions xml);
  void load();
  std::vector<size_t> filter_images(const std::vector<ImageInfo>& images) const override;

  XmlOptions xml_;
  int year_ = 0;
  std::vector<Record> records_;
};

}  // namespace cppdet::data
