#include "cppdet/apis/class_names.h"

#include <algorithm>

namespace cppdet::apis {

const std::vector<std::string>& coco_class_names() {
  static const std::vector<std::string> names = {
      "person",        "bicycle",      "car",           "motorcycle",    "airplane",     "bus",
      "train",         "truck",        "boat",          "traffic_light", "fire_hydrant", "stop_sign",
      "parking_meter", "bench",        "bird",          "cat",           "dog",          "horse",
      "sheep",         "cow",          "elephant",      "bear",          "zebra",        "giraffe",
      "backpack",      "umbrella",     "handbag",       "tie",           "suitcase",     "frisbee",
      "skis",          "snowboard",    "sports_ball",   "kite",          "baseball_bat", "baseball_glove",
      "skateboard",    "surfboard",    "tennis_racket", "bottle",        "wine_glass",   "cup",
      "fork",          "knife",        "spoon",         "bowl",          "banana",       "apple",
      "sandwich",      "orange",       "broccoli",      "carrot",        "hot_dog",      "pizza",
      "donut",         "cake",         "chair",         "couch",         "potted_plant", "bed",
      "dining_table",  "toilet",       "tv",            "laptop",        "mouse",        "remote",
      "keyboard",      "cell_phone",   "microwave",     "oven",          "toaster",      "sink",
      "refrigerator",  "book",         "clock",         "vase",          "scissors",     "teddy_bear",
      "hair_drier",    "toothbrush"};
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

namespace {

// CocoDataset.CLASSES spells the names with spaces ("traffic light").
std::vector<std::string> coco_dataset_names() {
  std::vector<std::string> names = coco_class_names();
  for (std::string& n : names) std::replace(n.begin(), n.end(), '_', ' ');
  return names;
}

}  // namespace

std::vector<std::string> config_class_names(const config::Value& cfg) {
  if (!cfg.is_dict()) return {};
  const config::Value* data = cfg.as_dict().find("data");
  const config::Value* test = (data && data->is_dict()) ? data->as_dict().find("test") : nullptr;
  if (!test || !test->is_dict()) return {};
  if (const config::Value* classes = test->as_dict().find("classes"); classes && !classes->is_none())
    return class_names_of(*classes);
  const config::Value* type = test->as_dict().find("type");
  if (!type || !type->is_string()) return {};
  const std::string& t = type->as_string();
  if (t == "CocoDataset") return coco_dataset_names();
  if (t == "VOCDataset")
    return {"aeroplane", "bicycle", "bird",  "boat",        "bottle", "bus",         "car",
            "cat",       "chair",   "cow",   "diningtable", "dog",    "horse",       "motorbike",
            "person",    "pottedplant", "sheep", "sofa",    "train",  "tvmonitor"};
  if (t == "CityscapesDataset") return {"person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle"};
  return {};
}

}  // namespace cppdet::apis
