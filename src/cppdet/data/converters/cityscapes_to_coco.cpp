#include "cppdet/data/converters/cityscapes_to_coco.h"

#include <algorithm>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "cppdet/core/error.h"
#include "cppdet/evaluation/mask_rle.h"

namespace cppdet::data::converters {
namespace {

namespace fs = std::filesystem;

constexpr const char* kImageSuffix = "leftImg8bit.png";

struct CityscapesLabel {
  int id;
  const char* name;
  bool evaluated;  // hasInstances and not ignoreInEval
};

// The Cityscapes labels with instances (ids 24..33); ids 0..23 are stuff and never reach here.
constexpr CityscapesLabel kInstanceLabels[] = {
    {24, "person", true}, {25, "rider", true},    {26, "car", true},        {27, "truck", true},
    {28, "bus", true},    {29, "caravan", false}, {30, "trailer", false},   {31, "train", true},
    {32, "motorcycle", true}, {33, "bicycle", true},
};
constexpr int kMinInstanceLabel = 24;

const CityscapesLabel* find_label(int64_t id) {
  for (const CityscapesLabel& l : kInstanceLabels)
    if (l.id == id) return &l;
  return nullptr;
}

struct ImageFiles {
  std::string image;     // <img_dir>/<split>/<city>/<name>
  std::string instance;  // <gt_dir>/<split>/<city>/<stem>gtFine_instanceIds.png
  std::string city, name, stem;
};

std::vector<ImageFiles> collect_files(const fs::path& img_split, const fs::path& gt_split) {
  std::vector<ImageFiles> files;
  std::error_code ec;
  for (const fs::directory_entry& city : fs::directory_iterator(img_split, ec)) {
    if (!city.is_directory(ec)) continue;
    for (const fs::directory_entry& f : fs::directory_iterator(city.path(), ec)) {
      const std::string name = f.path().filename().string();
      if (f.path().extension() != ".png" || !f.is_regular_file(ec)) continue;
      if (name.size() < std::char_traits<char>::length(kImageSuffix) ||
          name.compare(name.size() - std::char_traits<char>::length(kImageSuffix), std::string::npos, kImageSuffix) != 0)
        throw FileFormatError(f.path().string() + ": not a Cityscapes image (its name must end with \"" + kImageSuffix + "\")");
      ImageFiles item;
      item.image = f.path().string();
      item.city = city.path().filename().string();
      item.name = name;
      item.stem = name.substr(0, name.size() - std::char_traits<char>::length(kImageSuffix));
      item.instance = (gt_split / item.city / (item.stem + "gtFine_instanceIds.png")).string();
      files.push_back(std::move(item));
    }
  }
  if (ec) throw FileFormatError(img_split.string() + ": cannot list the folder (" + ec.message() + ")");
  std::sort(files.begin(), files.end(), [](const ImageFiles& a, const ImageFiles& b) { return a.image < b.image; });
  if (files.empty()) throw FileFormatError(img_split.string() + ": no images found (expected <city>/*" + kImageSuffix + ")");
  return files;
}

// The map as int32, column-major (pixel (y, x) at x*h + y), the order RLE runs follow.
std::vector<int32_t> column_major_ids(const cv::Mat& map) {
  cv::Mat ids;
  map.convertTo(ids, CV_32S);
  cv::Mat transposed = ids.t();
  return std::vector<int32_t>(transposed.begin<int32_t>(), transposed.end<int32_t>());
}

struct ConvertedImage {
  OrderedJson image;
  OrderedJson annotations;
};

}  // namespace

OrderedJson cityscapes_instances(const cv::Mat& instance_map, const std::string& source) {
  if (instance_map.channels() != 1 ||
      (instance_map.depth() != CV_8U && instance_map.depth() != CV_16U && instance_map.depth() != CV_32S))
    throw FileFormatError(source + ": an instance-id map must have one 8/16-bit channel");
  const auto h = static_cast<uint32_t>(instance_map.rows), w = static_cast<uint32_t>(instance_map.cols);
  const std::vector<int32_t> ids = column_major_ids(instance_map);
  std::set<int32_t> values;
  for (int32_t v : ids)
    if (v >= kMinInstanceLabel) values.insert(v);
  OrderedJson annotations = OrderedJson::array();
  std::vector<uint8_t> mask(ids.size());
  for (int32_t v : values) {
    const int64_t label_id = v >= 1000 ? v / 1000 : v;
    const CityscapesLabel* label = find_label(label_id);
    if (!label)
      throw FileFormatError(source + ": instance id " + std::to_string(v) + " has no Cityscapes label (label id " +
                            std::to_string(label_id) + ")");
    if (!label->evaluated) continue;
    for (size_t i = 0; i < ids.size(); ++i) mask[i] = ids[i] == v;
    const evaluation::Rle rle = evaluation::rle_encode(mask.data(), h, w);
    const evaluation::BoxXywh box = evaluation::rle_to_bbox(rle);
    OrderedJson a;
    a["iscrowd"] = v < 1000 ? 1 : 0;
    a["category_id"] = label->id;
    a["bbox"] = OrderedJson::array({box[0], box[1], box[2], box[3]});
    a["area"] = evaluation::rle_area(rle);
    a["segmentation"] = OrderedJson{{"size", OrderedJson::array({h, w})}, {"counts", evaluation::rle_to_string(rle)}};
    annotations.push_back(std::move(a));
  }
  return annotations;
}

std::vector<CityscapesSplit> cityscapes_to_coco(const CityscapesOptions& options, std::vector<std::string>* notes) {
  const fs::path img_dir = fs::path(options.root) / options.img_dir;
  const fs::path gt_dir = fs::path(options.root) / options.gt_dir;
  std::error_code ec;
  if (!fs::is_directory(img_dir, ec)) throw FileFormatError(img_dir.string() + ": image folder not found");
  std::vector<CityscapesSplit> out;
  for (const std::string split : {"train", "val", "test"}) {
    const std::string json_name = "instancesonly_filtered_gtFine_" + split + ".json";
    if (!fs::is_directory(img_dir / split, ec)) {
      if (notes) notes->push_back((img_dir / split).string() + " does not exist, skip " + json_name);
      continue;
    }
    const std::vector<ImageFiles> files = collect_files(img_dir / split, gt_dir / split);
    std::vector<ConvertedImage> converted(files.size());
    run_with_progress(files.size(), options.num_threads, [&](size_t i) {
      const ImageFiles& f = files[i];
      std::error_code missing;
      if (!fs::is_regular_file(f.instance, missing)) throw FileFormatError(f.instance + ": instance-id map not found");
      cv::Mat map;
      try {
        map = cv::imread(f.instance, cv::IMREAD_UNCHANGED);
      } catch (const cv::Exception& e) {
        throw FileFormatError(f.instance + ": cannot decode the PNG (" + e.what() + ")");
      }
      if (map.empty()) throw FileFormatError(f.instance + ": cannot decode the PNG");
      ConvertedImage& c = converted[i];
      c.annotations = cityscapes_instances(map, f.instance);
      c.image["file_name"] = f.city + "/" + f.name;
      c.image["height"] = map.rows;
      c.image["width"] = map.cols;
      c.image["segm_file"] = f.city + "/" + f.stem + "gtFine_labelIds.png";
    });

    OrderedJson coco;
    coco["images"] = OrderedJson::array();
    coco["categories"] = OrderedJson::array();
    coco["annotations"] = OrderedJson::array();
    int64_t ann_id = 0;
    for (size_t i = 0; i < converted.size(); ++i) {
      OrderedJson& image = converted[i].image;
      image["id"] = static_cast<int64_t>(i);
      coco["images"].push_back(std::move(image));
      for (OrderedJson& a : converted[i].annotations) {
        a["image_id"] = static_cast<int64_t>(i);
        a["id"] = ann_id++;
        coco["annotations"].push_back(std::move(a));
      }
    }
    for (const CityscapesLabel& l : kInstanceLabels)
      if (l.evaluated) coco["categories"].push_back(OrderedJson{{"id", l.id}, {"name", l.name}});
    if (coco["annotations"].empty()) coco.erase("annotations");
    out.push_back({split, json_name, std::move(coco)});
  }
  if (out.empty())
    throw FileFormatError(img_dir.string() + ": none of the split folders train, val, test exists");
  return out;
}

}  // namespace cppdet::data::converters
