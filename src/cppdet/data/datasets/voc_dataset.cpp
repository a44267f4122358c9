#include "cppdet/data/datasets/voc_dataset.h"

#include <tinyxml2.h>

#include <algorithm>
#include <cstdio>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <unordered_map>

#include "cppdet/config/python_repr.h"
#include "cppdet/core/error.h"
#include "cppdet/data/transforms/loading.h"
#include "cppdet/evaluation/coco_eval.h"
#include "cppdet/evaluation/mmdet_coco_metrics.h"
#include "cppdet/evaluation/voc_map.h"

namespace cppdet::data {

const std::vector<std::string>& voc_classes() {
  static const std::vector<std::string> names = {
      "aeroplane", "bicycle", "bird",  "boat",        "bottle", "bus",         "car",   "cat",  "chair", "cow",
      "diningtable", "dog",   "horse", "motorbike",   "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor"};
  return names;
}

XmlDataset::XmlDataset(const std::string& type, std::vector<std::string> default_classes, DatasetOptions options,
                       XmlOptions xml)
    : DetectionDataset(type, std::move(default_classes), std::move(options)), xml_(std::move(xml)) {}

std::shared_ptr<XmlDataset> XmlDataset::create(const std::string& type, DatasetOptions options, XmlOptions xml) {
  const bool voc = type == "VOCDataset";
  if (!voc && !options.classes) throw ConfigError(options.path + ".classes: XMLDataset needs `classes`");
  std::shared_ptr<XmlDataset> ds(new XmlDataset(type, voc ? voc_classes() : std::vector<std::string>{}, std::move(options),
                                                std::move(xml)));
  if (voc) {
    const std::string& prefix = ds->options().img_prefix;
    if (prefix.find("VOC2007") != std::string::npos) ds->year_ = 2007;
    else if (prefix.find("VOC2012") != std::string::npos) ds->year_ = 2012;
    else throw ConfigError(ds->options().path + ".img_prefix: cannot infer the VOC year (VOC2007 or VOC2012) from '" +
                           prefix + "'");
  }
  ds->load();
  return ds;
}

namespace {

std::string child_text(const tinyxml2::XMLElement* e, const char* name, const std::string& where) {
  const tinyxml2::XMLElement* c = e->FirstChildElement(name);
  if (!c || !c->GetText()) throw FileFormatError(where + ": missing <" + std::string(name) + ">");
  return c->GetText();
}

// Python's int(float(text)).
int64_t int_of_float_text(const std::string& text, const std::string& where) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (text.find_first_not_of(" \t\r\n", used) != std::string::npos || !std::isfinite(v)) throw std::invalid_argument(text);
    return static_cast<int64_t>(std::trunc(v));
  } catch (const std::exception&) {
    throw FileFormatError(where + ": expected a number, got '" + text + "'");
  }
}

int64_t int_text(const std::string& text, const std::string& where) {
  try {
    size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (text.find_first_not_of(" \t\r\n", used) != std::string::npos) throw std::invalid_argument(text);
    return v;
  } catch (const std::exception&) {
    throw FileFormatError(where + ": expected an integer, got '" + text + "'");
  }
}

}  // namespace

void XmlDataset::load() {
  const std::string& ann_file = options().ann_file;
  std::ifstream in(ann_file);
  if (!in) throw FileFormatError(options().path + ".ann_file: image-set file not found: " + ann_file);
  std::vector<std::string> ids;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) ids.push_back(line);
  }
  std::vector<ImageInfo> images;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string xml_path =
        (std::filesystem::path(options().img_prefix) / xml_.ann_subdir / (ids[i] + ".xml")).string();
    tinyxml2::XMLDocument doc;
    if (doc.LoadFile(xml_path.c_str()) != tinyxml2::XML_SUCCESS)
      throw FileFormatError(xml_path + ": " + (std::filesystem::exists(xml_path) ? "malformed XML: " + std::string(doc.ErrorStr())
                                                                                 : std::string("annotation file not found")));
    const tinyxml2::XMLElement* root = doc.RootElement();
    ImageInfo info;
    info.id = static_cast<int64_t>(i);
    info.filename = (std::filesystem::path(xml_.img_subdir) / (ids[i] + ".jpg")).string();
    info.record = records_.size();
    if (const tinyxml2::XMLElement* size = root->FirstChildElement("size")) {
      info.width = int_text(child_text(size, "width", xml_path + ": <size>"), xml_path + ": <width>");
      info.height = int_text(child_text(size, "height", xml_path + ": <size>"), xml_path + ": <height>");
    } else {
      const cv::Mat img = read_image_bgr((std::filesystem::path(options().img_prefix) / info.filename).string());
      info.width = img.cols;
      info.height = img.rows;
    }
    Record rec;
    rec.image_id = ids[i];
    for (const tinyxml2::XMLElement* obj = root->FirstChildElement("object"); obj;
         obj = obj->NextSiblingElement("object")) {
      Object o;
      o.name = child_text(obj, "name", xml_path + ": <object>");
      if (const tinyxml2::XMLElement* d = obj->FirstChildElement("difficult"))
        o.difficult = int_text(d->GetText() ? d->GetText() : "", xml_path + ": <difficult>") != 0;
      const tinyxml2::XMLElement* bnd = obj->FirstChildElement("bndbox");
      if (!bnd) throw FileFormatError(xml_path + ": object '" + o.name + "' has no <bndbox>");
      const char* keys[4] = {"xmin", "ymin", "xmax", "ymax"};
      for (int k = 0; k < 4; ++k)
        o.box[k] = int_of_float_text(child_text(bnd, keys[k], xml_path + ": <bndbox>"), xml_path + ": <" + keys[k] + ">");
      rec.objects.push_back(std::move(o));
    }
    records_.push_back(std::move(rec));
    images.push_back(std::move(info));
  }
  finish_loading(std::move(images));
}

std::vector<size_t> XmlDataset::filter_images(const std::vector<ImageInfo>& images) const {
  std::vector<size_t> kept;
  for (size_t i = 0; i < images.size(); ++i) {
    if (std::min(images[i].width, images[i].height) < 32) continue;
    bool any = !options().filter_empty_gt;
    for (const Object& o : records_[images[i].record].objects)
      any = any || std::find(classes().begin(), classes().end(), o.name) != classes().end();
    if (any) kept.push_back(i);
  }
  return kept;
}

AnnInfo XmlDataset::ann_info(size_t index) const {
  const ImageInfo& info = image_info(index);
  std::vector<float> boxes, ignore;
  std::vector<int64_t> labels, labels_ignore;
  for (const Object& o : records_[info.record].objects) {
    const auto it = std::find(classes().begin(), classes().end(), o.name);
    if (it == classes().end()) continue;
    const int64_t label = it - classes().begin();
    bool small = false;
    if (xml_.min_size) {
      const auto w = static_cast<double>(o.box[2] - o.box[0]), h = static_cast<double>(o.box[3] - o.box[1]);
      small = w < *xml_.min_size || h < *xml_.min_size;
    }
    std::vector<float>& dst = (o.difficult || small) ? ignore : boxes;
    for (int k = 0; k < 4; ++k) dst.push_back(static_cast<float>(o.box[k] - 1));
    ((o.difficult || small) ? labels_ignore : labels).push_back(label);
  }
  AnnInfo out;
  out.bboxes = torch::tensor(boxes, torch::kFloat32).reshape({-1, 4});
  out.labels = torch::tensor(labels, torch::kInt64);
  out.bboxes_ignore = torch::tensor(ignore, torch::kFloat32).reshape({-1, 4});
  out.labels_ignore = torch::tensor(labels_ignore, torch::kInt64);
  out.height = info.height;
  out.width = info.width;
  return out;
}

namespace {

std::vector<evaluation::VocBox> voc_boxes(const torch::Tensor& t) {
  std::vector<evaluation::VocBox> out;
  const torch::Tensor c = t.contiguous();
  const float* p = c.data_ptr<float>();
  for (int64_t i = 0; i < c.size(0); ++i) out.push_back({p[i * 4], p[i * 4 + 1], p[i * 4 + 2], p[i * 4 + 3]});
  return out;
}

std::vector<int> int_labels(const torch::Tensor& t) {
  std::vector<int> out;
  for (int64_t i = 0; i < t.size(0); ++i) out.push_back(static_cast<int>(t[i].item<int64_t>()));
  return out;
}

std::vector<evaluation::VocDetection> detections_of(const torch::Tensor& b) {
  std::vector<evaluation::VocDetection> out;
  const float* d = b.data_ptr<float>();
  for (int64_t k = 0; k < b.size(0); ++k) out.push_back({d[k * 5], d[k * 5 + 1], d[k * 5 + 2], d[k * 5 + 3], d[k * 5 + 4]});
  return out;
}

}  // namespace

config::Dict XmlDataset::evaluate(const std::vector<ImageDetections>& results, const EvalOptions& options,
                                  std::ostream* log) const {
  using namespace evaluation;
  if (options.metrics.size() > 1) throw UserError(type() + " evaluates one metric at a time (mAP or recall)");
  const std::string metric = options.metrics.empty() ? "mAP" : options.metrics[0];
  if (metric != "mAP" && metric != "recall")
    throw UserError("metric " + metric + " is not supported by " + type() + " (mAP, recall)");
  check_results(results);
  const std::vector<double> iou_thrs = options.iou_thrs.empty() ? std::vector<double>{0.5} : options.iou_thrs;
  std::vector<VocImageAnnotation> annotations;
  for (size_t i = 0; i < size(); ++i) {
    const AnnInfo a = ann_info(i);
    annotations.push_back({voc_boxes(a.bboxes), int_labels(a.labels), voc_boxes(a.bboxes_ignore), int_labels(a.labels_ignore)});
  }
  const bool legacy = year_ != 0;
  config::Dict out;
  if (metric == "mAP") {
    const VocApMode mode = year_ == 2007 ? VocApMode::kElevenPoints : VocApMode::kArea;
    std::vector<std::vector<std::vector<VocDetection>>> dets;
    for (const ImageDetections& r : results) {
      std::vector<std::vector<VocDetection>> per_class;
      for (const torch::Tensor& b : r.bboxes) per_class.push_back(detections_of(b));
      dets.push_back(std::move(per_class));
    }
    double sum = 0;
    if (year_ != 0) out.set("mAP", 0.0);  // VOCDataset moves mAP first
    for (double thr : iou_thrs) {
      if (log) *log << "\n---------------iou_thr: " << config::python_float_repr(thr) << "---------------\n";
      const VocMapResult r = eval_map(dets, annotations, thr, mode, legacy);
      if (log) *log << "\n" << map_summary_table(r, classes()) << "\n";
      sum += r.mean_ap;
      char key[16];
      std::snprintf(key, sizeof key, "AP%02d", static_cast<int>(thr * 100));
      out.set(key, round3(r.mean_ap));
    }
    out.set("mAP", sum / static_cast<double>(iou_thrs.size()));
  } else {
    std::vector<std::vector<VocBox>> gts;
    std::vector<std::vector<VocDetection>> proposals;
    for (size_t i = 0; i < size(); ++i) {
      gts.push_back(annotations[i].bboxes);
      std::vector<VocDetection> p;
      for (const torch::Tensor& b : results[i].bboxes)
        for (const VocDetection& d : detections_of(b)) p.push_back(d);
      proposals.push_back(std::move(p));
    }
    const std::vector<int> nums(options.proposal_nums.begin(), options.proposal_nums.end());
    const auto recalls = eval_recalls(gts, proposals, nums, iou_thrs, legacy);
    for (size_t i = 0; i < nums.size(); ++i)
      for (size_t j = 0; j < iou_thrs.size(); ++j)
        out.set("recall@" + std::to_string(nums[i]) + "@" + config::python_float_repr(iou_thrs[j]), recalls[i][j]);
    if (iou_thrs.size() > 1)
      for (size_t i = 0; i < nums.size(); ++i) out.set("AR@" + std::to_string(nums[i]), numpy_mean(recalls[i]));
  }
  if (log) log->flush();
  return out;
}

}  // namespace cppdet::data
