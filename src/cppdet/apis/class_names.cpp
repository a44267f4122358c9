#include "cppdet/apis/class_names.h"

#include <algorithm>

#include "cppdet/data/datasets/cityscapes_dataset.h"
#include "cppdet/data/datasets/coco_dataset.h"
#include "cppdet/data/datasets/voc_dataset.h"

namespace cppdet::apis {

const std::vector<std::string>& coco_class_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out = data::coco_classes();  // CocoDataset.CLASSES: "traffic light"
    for (std::string& n : out) std::replace(n.begin(), n.end(), ' ', '_');
    return out;
  }();
  return names;
}

std::vector<std::string> class_names_of(const config::Value& v) {
  std::vector<std::string> out;
  if (v.is_string()) return {v.as_string()};
  if (!v.is_sequence()) return out;
  for (const config::Value& item : v.as_sequence())
    if (item.is_string()) out.push_back(item.as_string());
  return out;
}

std::vector<std::string> config_class_names(const config::Value& cfg) {
  if (!cfg.is_dict()) return {};
  const config::Value* data_cfg = cfg.as_dict().find("data");
  const config::Value* test = (data_cfg && data_cfg->is_dict()) ? data_cfg->as_dict().find("test") : nullptr;
  if (!test || !test->is_dict()) return {};
  if (const config::Value* classes = test->as_dict().find("classes"); classes && !classes->is_none())
    return class_names_of(*classes);
  const config::Value* type = test->as_dict().find("type");
  if (!type || !type->is_string()) return {};
  const std::string& t = type->as_string();
  if (t == "CocoDataset") return data::coco_classes();
  if (t == "VOCDataset") return data::voc_classes();
  if (t == "CityscapesDataset") return data::cityscapes_classes();
  return {};
}

}  // namespace cppdet::apis
