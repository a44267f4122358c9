#pragma once
// Class names for drawing and result files, as mmdet 2.25 resolves them.
#include <string>
#include <vector>

#include "cppdet/config/value.h"

namespace cppdet::apis {

// mmdet's get_classes('coco'): the 80 COCO names with underscores ("traffic_light").
const std::vector<std::string>& coco_class_names();

// The class names a config's test dataset declares: data.test.classes (a tuple/list of str)
// if set, else the CLASSES of a known dataset type (CocoDataset, VOCDataset,
// CityscapesDataset); empty when the config names neither.
std::vector<std::string> config_class_names(const config::Value& cfg);

// The names in a `classes` value or a checkpoint's meta.CLASSES: one string or a list of them
// (other items skipped).
std::vector<std::string> class_names_of(const config::Value& v);

}  // namespace cppdet::apis
