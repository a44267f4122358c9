#include "cppdet/data/converters/voc_to_coco.h"

#include <tinyxml2.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"
#include "cppdet/data/datasets/voc_dataset.h"

namespace cppdet::data::converters {
namespace {

namespace fs = std::filesystem;

struct VocObject {
  int64_t label = 0;
  int64_t x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // 0-based (XML value - 1)
  bool difficult = false;
};

struct VocImage {
  std::string file_name;
  int64_t width = 0, height = 0;
  std::vector<VocObject> objects;
};

const tinyxml2::XMLElement& child(const tinyxml2::XMLElement& parent, const char* name, const std::string& xml,
                                  const std::string& where) {
  const tinyxml2::XMLElement* e = parent.FirstChildElement(name);
  if (!e) throw FileFormatError(xml + ": " + where + " has no <" + name + ">");
  return *e;
}

// int(float(text)): the value truncated toward zero.
int64_t integer_text(const tinyxml2::XMLElement& e, const std::string& xml) {
  const char* text = e.GetText();
  char* end = nullptr;
  errno = 0;
  const double v = text ? std::strtod(text, &end) : 0.0;
  if (!text || end == text || errno != 0 || (*end != '\0' && !std::isspace(static_cast<unsigned char>(*end))))
    throw FileFormatError(xml + ": line " + std::to_string(e.GetLineNum()) + ": <" + e.Name() + "> must be a number, got \"" +
                          (text ? text : "") + "\"");
  return static_cast<int64_t>(v);
}

VocImage parse_xml(const std::string& xml, const std::string& file_name) {
  std::error_code ec;
  if (!fs::is_regular_file(xml, ec)) throw FileFormatError(xml + ": annotation file not found");
  tinyxml2::XMLDocument doc;
  if (doc.LoadFile(xml.c_str()) != tinyxml2::XML_SUCCESS)
    throw FileFormatError(xml + ": malformed XML: " + (doc.ErrorStr() ? doc.ErrorStr() : "parse error"));
  const tinyxml2::XMLElement* root = doc.RootElement();
  if (!root) throw FileFormatError(xml + ": empty XML document");
  VocImage img;
  img.file_name = file_name;
  const tinyxml2::XMLElement& size = child(*root, "size", xml, "<annotation>");
  img.width = integer_text(child(size, "width", xml, "<size>"), xml);
  img.height = integer_text(child(size, "height", xml, "<size>"), xml);
  const auto& names = voc_classes();
  for (const tinyxml2::XMLElement* obj = root->FirstChildElement("object"); obj;
       obj = obj->NextSiblingElement("object")) {
    const std::string where = "<object> at line " + std::to_string(obj->GetLineNum());
    const char* name_text = child(*obj, "name", xml, where).GetText();
    const std::string name = name_text ? name_text : "";
    VocObject o;
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) throw FileFormatError(xml + ": " + where + ": unknown VOC class \"" + name + "\"");
    o.label = it - names.begin();
    if (const tinyxml2::XMLElement* d = obj->FirstChildElement("difficult")) o.difficult = integer_text(*d, xml) != 0;
    const tinyxml2::XMLElement& box = child(*obj, "bndbox", xml, where);
    o.x1 = integer_text(child(box, "xmin", xml, where + " <bndbox>"), xml) - 1;
    o.y1 = integer_text(child(box, "ymin", xml, where + " <bndbox>"), xml) - 1;
    o.x2 = integer_text(child(box, "xmax", xml, where + " <bndbox>"), xml) - 1;
    o.y2 = integer_text(child(box, "ymax", xml, where + " <bndbox>"), xml) - 1;
    img.objects.push_back(o);
  }
  return img;
}

OrderedJson annotation(const VocObject& o, int64_t image_id, int64_t ann_id) {
  OrderedJson a;
  a["segmentation"] = OrderedJson::array({OrderedJson::array({o.x1, o.y1, o.x1, o.y2, o.x2, o.y2, o.x2, o.y1})});
  const int64_t w = o.x2 - o.x1, h = o.y2 - o.y1;
  a["area"] = w * h;
  a["ignore"] = 0;
  a["iscrowd"] = o.difficult ? 1 : 0;
  a["image_id"] = image_id;
  a["bbox"] = OrderedJson::array({o.x1, o.y1, w, h});
  a["category_id"] = o.label;
  a["id"] = ann_id;
  return a;
}

OrderedJson to_coco(const std::vector<VocImage>& images, const std::string& dataset) {
  OrderedJson coco;
  coco["images"] = OrderedJson::array();
  coco["type"] = "instance";
  coco["categories"] = OrderedJson::array();
  coco["annotations"] = OrderedJson::array();
  const auto& names = voc_classes();
  for (size_t k = 0; k < names.size(); ++k) {
    OrderedJson c;
    c["supercategory"] = "none";
    c["id"] = static_cast<int64_t>(k);
    c["name"] = names[k];
    coco["categories"].push_back(std::move(c));
  }
  std::set<std::string> seen;
  int64_t ann_id = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    const VocImage& img = images[i];
    if (!seen.insert(img.file_name).second)
      throw FileFormatError(dataset + ": image " + img.file_name + " is listed twice");
    const auto image_id = static_cast<int64_t>(i);
    OrderedJson j;
    j["id"] = image_id;
    j["file_name"] = img.file_name;
    j["height"] = img.height;
    j["width"] = img.width;
    coco["images"].push_back(std::move(j));
    for (bool difficult : {false, true})
      for (const VocObject& o : img.objects)
        if (o.difficult == difficult) coco["annotations"].push_back(annotation(o, image_id, ann_id++));
  }
  return coco;
}

std::vector<std::string> read_image_list(const std::string& path) {
  std::istringstream in(read_file(path));
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

}  // namespace

std::vector<VocDataset> voc_to_coco(const std::string& devkit_root, std::vector<std::string>* notes) {
  std::error_code ec;
  std::vector<std::vector<std::string>> year_sets;
  std::vector<std::string> prefixes;
  const bool has07 = fs::is_directory(fs::path(devkit_root) / "VOC2007", ec);
  const bool has12 = fs::is_directory(fs::path(devkit_root) / "VOC2012", ec);
  if (has07) year_sets.push_back({"2007"}), prefixes.push_back("voc07");
  if (has12) year_sets.push_back({"2012"}), prefixes.push_back("voc12");
  if (has07 && has12) year_sets.push_back({"2007", "2012"}), prefixes.push_back("voc0712");
  if (year_sets.empty())
    throw FileFormatError(devkit_root + ": contains neither a \"VOC2007\" nor a \"VOC2012\" folder");

  std::vector<VocDataset> out;
  for (size_t y = 0; y < year_sets.size(); ++y) {
    std::vector<std::string> splits{"train", "val", "trainval"};
    if (year_sets[y].size() == 1) splits.push_back("test");
    for (const std::string& split : splits) {
      const std::string name = prefixes[y] + "_" + split;
      std::vector<std::pair<std::string, std::string>> items;  // (xml path, file_name)
      bool skipped = false;
      for (const std::string& year : year_sets[y]) {
        const fs::path list = fs::path(devkit_root) / ("VOC" + year) / "ImageSets" / "Main" / (split + ".txt");
        if (!fs::is_regular_file(list, ec)) {
          if (notes) notes->push_back("filelist does not exist: " + list.string() + ", skip " + name);
          skipped = true;
          break;
        }
        for (const std::string& img : read_image_list(list.string()))
          items.emplace_back((fs::path(devkit_root) / ("VOC" + year) / "Annotations" / (img + ".xml")).string(),
                             "VOC" + year + "/JPEGImages/" + img + ".jpg");
      }
      if (skipped) continue;
      std::vector<VocImage> images(items.size());
      run_with_progress(items.size(), 1, [&](size_t i) { images[i] = parse_xml(items[i].first, items[i].second); });
      out.push_back({name, to_coco(images, name)});
    }
  }
  return out;
}

}  // namespace cppdet::data::converters
