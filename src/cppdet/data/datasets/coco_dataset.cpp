#include "cppdet/data/datasets/coco_dataset.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <unordered_set>

#include "cppdet/core/error.h"
#include "cppdet/data/datasets/coco_results.h"
#include "cppdet/evaluation/coco_eval.h"
#include "cppdet/evaluation/mmdet_coco_metrics.h"
#include "cppdet/evaluation/voc_map.h"

namespace cppdet::data {

using evaluation::CocoAnnotation;
using evaluation::CocoGroundTruth;
using evaluation::SegmentationKind;

const std::vector<std::string>& coco_classes() {
  static const std::vector<std::string> names = {
      "person",        "bicycle",      "car",           "motorcycle",    "airplane",     "bus",
      "train",         "truck",        "boat",          "traffic light", "fire hydrant", "stop sign",
      "parking meter", "bench",        "bird",          "cat",           "dog",          "horse",
      "sheep",         "cow",          "elephant",      "bear",          "zebra",        "giraffe",
      "backpack",      "umbrella",     "handbag",       "tie",           "suitcase",     "frisbee",
      "skis",          "snowboard",    "sports ball",   "kite",          "baseball bat", "baseball glove",
      "skateboard",    "surfboard",    "tennis racket", "bottle",        "wine glass",   "cup",
      "fork",          "knife",        "spoon",         "bowl",          "banana",       "apple",
      "sandwich",      "orange",       "broccoli",      "carrot",        "hot dog",      "pizza",
      "donut",         "cake",         "chair",         "couch",         "potted plant", "bed",
      "dining table",  "toilet",       "tv",            "laptop",        "mouse",        "remote",
      "keyboard",      "cell phone",   "microwave",     "oven",          "toaster",      "sink",
      "refrigerator",  "book",         "clock",         "vase",          "scissors",     "teddy bear",
      "hair drier",    "toothbrush"};
  return names;
}

CocoDataset::CocoDataset(std::string type, std::vector<std::string> default_classes, DatasetOptions options)
    : DetectionDataset(std::move(type), std::move(default_classes), std::move(options)) {}

std::shared_ptr<CocoDataset> CocoDataset::create(DatasetOptions options) {
  std::shared_ptr<CocoDataset> ds(new CocoDataset("CocoDataset", coco_classes(), std::move(options)));
  ds->load();
  return ds;
}

void CocoDataset::load() {
  const std::string& ann_file = options().ann_file;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(ann_file, ec))
    throw FileFormatError(options().path + ".ann_file: annotation file not found: " + ann_file);
  auto gt = std::make_shared<CocoGroundTruth>(evaluation::load_coco_ground_truth(ann_file));

  // getCatIds(catNms=CLASSES): file order of the categories, filtered by name.
  const std::unordered_set<std::string> wanted(classes().begin(), classes().end());
  for (const evaluation::CocoCategory& c : gt->categories)
    if (wanted.count(c.name)) {
      cat2label_.emplace(c.id, static_cast<int64_t>(cat_ids_.size()));
      cat_ids_.push_back(c.id);
    }

  anns_of_image_.assign(gt->images.size(), {});
  std::unordered_set<int64_t> ann_ids;
  const auto& anns = gt->annotations();
  for (size_t i = 0; i < anns.size(); ++i) {
    if (!ann_ids.insert(anns[i].id).second)
      throw FileFormatError(ann_file + ": annotation ids are not unique (id " + std::to_string(anns[i].id) +
                            " appears twice)");
    const int64_t img = gt->image_index(anns[i].image_id);
    if (img >= 0) anns_of_image_[static_cast<size_t>(img)].push_back(static_cast<uint32_t>(i));
  }

  std::vector<ImageInfo> images;
  std::unordered_set<int64_t> seen;
  for (size_t i = 0; i < gt->images.size(); ++i) {
    const evaluation::CocoImage& im = gt->images[i];
    if (!seen.insert(im.id).second) continue;  // COCO.imgs keeps one entry per id
    ImageInfo info;
    info.id = im.id;
    info.filename = im.file_name;
    info.width = im.width;
    info.height = im.height;
    info.record = static_cast<size_t>(gt->image_index(im.id));
    images.push_back(std::move(info));
  }
  gt_ = std::move(gt);
  finish_loading(std::move(images));
}

std::vector<size_t> CocoDataset::filter_images(const std::vector<ImageInfo>& images) const {
  std::vector<size_t> kept;
  for (size_t i = 0; i < images.size(); ++i) {
    const std::vector<uint32_t>& anns = anns_of_image_[images[i].record];
    if (options().filter_empty_gt) {
      bool in_cat = false, all_crowd = true;
      for (uint32_t a : anns) {
        in_cat = in_cat || cat2label_.count(gt_->annotations()[a].category_id) > 0;
        all_crowd = all_crowd && gt_->annotations()[a].iscrowd;
      }
      if (!in_cat || (drop_all_crowd_images_ && all_crowd)) continue;
    }
    if (std::min(images[i].width, images[i].height) >= 32) kept.push_back(i);
  }
  return kept;
}

std::vector<int64_t> CocoDataset::img_ids() const {
  std::vector<int64_t> ids;
  for (size_t i = 0; i < size(); ++i) ids.push_back(image_info(i).id);
  return ids;
}

namespace {

torch::Tensor boxes_tensor(const std::vector<float>& flat) {
  return torch::tensor(flat, torch::kFloat32).reshape({static_cast<int64_t>(flat.size() / 4), 4});
}

MaskAnnotation mask_of(const evaluation::CocoAnnotationStore& store, const CocoAnnotation& a) {
  MaskAnnotation m;
  switch (a.segmentation) {
    case SegmentationKind::kPolygons:
      m.kind = MaskAnnotation::Kind::kPolygons;
      m.polygons = store.polygons(a);
      break;
    case SegmentationKind::kRleCounts:
    case SegmentationKind::kRleString:
      m.kind = MaskAnnotation::Kind::kRle;
      m.rle = store.to_rle(a, a.rle_h, a.rle_w);
      break;
    default: break;
  }
  return m;
}

}  // namespace

AnnInfo CocoDataset::ann_info(size_t index) const {
  const ImageInfo& info = image_info(index);
  std::vector<float> boxes, ignore;
  std::vector<int64_t> labels;
  AnnInfo out;
  const auto& anns = gt_->annotations();
  for (uint32_t ai : anns_of_image_[info.record]) {
    const CocoAnnotation& a = anns[ai];
    if (a.ignore) continue;
    if (!a.has_bbox)
      throw FileFormatError(options().ann_file + ": annotation " + std::to_string(a.id) + " has no \"bbox\"");
    const double x1 = a.bbox[0], y1 = a.bbox[1], w = a.bbox[2], h = a.bbox[3];
    if (skip_boxes_outside_image_) {
      const double inter_w = std::max(0.0, std::min(x1 + w, static_cast<double>(info.width)) - std::max(x1, 0.0));
      const double inter_h = std::max(0.0, std::min(y1 + h, static_cast<double>(info.height)) - std::max(y1, 0.0));
      if (inter_w * inter_h == 0) continue;
    }
    if (!a.has_area)
      throw FileFormatError(options().ann_file + ": annotation " + std::to_string(a.id) + " has no \"area\"");
    if (a.area <= 0 || w < 1 || h < 1) continue;
    const auto label = cat2label_.find(a.category_id);
    if (label == cat2label_.end()) continue;
    const float box[4] = {static_cast<float>(x1), static_cast<float>(y1), static_cast<float>(x1 + w),
                          static_cast<float>(y1 + h)};
    if (a.iscrowd) {
      ignore.insert(ignore.end(), box, box + 4);
    } else {
      boxes.insert(boxes.end(), box, box + 4);
      labels.push_back(label->second);
      out.masks.push_back(mask_of(gt_->store, a));
    }
  }
  out.bboxes = boxes_tensor(boxes);
  out.labels = torch::tensor(labels, torch::kInt64);
  out.bboxes_ignore = boxes_tensor(ignore);
  out.labels_ignore = torch::zeros({0}, torch::kInt64);
  // filename.replace('jpg', 'png')
  out.seg_map = info.filename;
  for (size_t p = out.seg_map.find("jpg"); p != std::string::npos; p = out.seg_map.find("jpg", p + 3))
    out.seg_map.replace(p, 3, "png");
  out.height = info.height;
  out.width = info.width;
  return out;
}

std::vector<std::string> CocoDataset::format_results(const std::vector<ImageDetections>& results,
                                                     const std::string& prefix) const {
  check_results(results);
  if (prefix.empty()) throw UserError("format_results: an output prefix (jsonfile_prefix) is required");
  const CocoResultRecords records = coco_result_records(results, img_ids(), cat_ids_);
  std::vector<std::string> paths{prefix + ".bbox.json"};
  const bool masks = !results.empty() && results.front().has_masks();
  if (masks) paths.push_back(prefix + ".segm.json");
  const std::filesystem::path parent = std::filesystem::path(prefix).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  write_coco_results_json(paths[0], records.bbox);
  if (masks) write_coco_results_json(paths[1], records.segm);
  return paths;
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string done_line(Clock::time_point t, bool period) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "DONE (t=%.2fs)%s", seconds_since(t), period ? "." : "");
  return buf;
}

}  // namespace

config::Dict CocoDataset::evaluate(const std::vector<ImageDetections>& results, const EvalOptions& options,
                                   std::ostream* log) const {
  using namespace evaluation;
  std::vector<std::string> metrics = options.metrics.empty() ? std::vector<std::string>{"bbox"} : options.metrics;
  for (const std::string& m : metrics)
    if (m != "bbox" && m != "segm" && m != "proposal" && m != "proposal_fast")
      throw UserError("metric " + m + " is not supported by " + type() + " (bbox, segm, proposal, proposal_fast)");
  check_results(results);
  const bool masks = !results.empty() && results.front().has_masks();
  for (const std::string& m : metrics)
    if (m == "segm" && !masks) throw UserError("metric segm needs mask results, but the results have no masks");

  CocoResultRecords records = coco_result_records(results, img_ids(), cat_ids_);
  if (!options.jsonfile_prefix.empty()) format_results(results, options.jsonfile_prefix);

  std::ostream* out = log;
  auto print = [&](const std::string& s) {
    if (out) *out << s << "\n";
  };
  std::vector<double> iou_thrs = options.iou_thrs;
  if (iou_thrs.empty()) iou_thrs = default_iou_thrs_.empty() ? numpy_linspace(0.5, 0.95, 10) : default_iou_thrs_;
  std::vector<std::string> metric_items = options.metric_items;  // mmdet reuses it across metrics

  config::Dict eval_results;
  for (const std::string& metric : metrics) {
    print("\nEvaluating " + metric + "...");
    if (metric == "proposal_fast") {
      std::vector<std::vector<VocBox>> gts;
      std::vector<std::vector<VocDetection>> proposals;
      for (size_t i = 0; i < size(); ++i) {
        std::vector<VocBox> g;
        for (uint32_t ai : anns_of_image_[image_info(i).record]) {
          const CocoAnnotation& a = gt_->annotations()[ai];
          if (a.ignore || a.iscrowd) continue;
          g.push_back({static_cast<float>(a.bbox[0]), static_cast<float>(a.bbox[1]),
                       static_cast<float>(a.bbox[0] + a.bbox[2]), static_cast<float>(a.bbox[1] + a.bbox[3])});
        }
        gts.push_back(std::move(g));
        std::vector<VocDetection> p;
        for (const torch::Tensor& b : results[i].bboxes) {
          const float* d = b.data_ptr<float>();
          for (int64_t k = 0; k < b.size(0); ++k) p.push_back({d[k * 5], d[k * 5 + 1], d[k * 5 + 2], d[k * 5 + 3], d[k * 5 + 4]});
        }
        proposals.push_back(std::move(p));
      }
      const std::vector<int> nums(options.proposal_nums.begin(), options.proposal_nums.end());
      const auto recalls = eval_recalls(gts, proposals, nums, iou_thrs, /*legacy=*/false);
      std::string msg;
      for (size_t i = 0; i < nums.size(); ++i) {
        const double ar = numpy_mean(recalls[i]);
        eval_results.set("AR@" + std::to_string(nums[i]), ar);
        char buf[64];
        std::snprintf(buf, sizeof buf, "\nAR@%d\t%.4f", nums[i], ar);
        msg += buf;
      }
      print(msg);
      continue;
    }
    const bool segm = metric == "segm";
    if ((segm ? records.segm : records.bbox).annotations.empty()) {
      print("The testing results of the whole dataset is empty.");
      break;
    }
    CocoAnnotationStore store = segm ? records.segm : records.bbox;
    if (segm)
      for (CocoAnnotation& a : store.annotations) a.has_bbox = false;  // areas and boxes come from the masks
    Clock::time_point t = Clock::now();
    print("Loading and preparing results...");
    const CocoResults dt = make_coco_results(std::move(store), metric + " results", *gt_);
    print(done_line(t, false));
    print("creating index...");
    print("index created!");

    CocoEvalParams params = CocoEvalParams::defaults(segm ? IouType::kSegm : IouType::kBbox);
    params.cat_ids = cat_ids_;
    params.img_ids = img_ids();
    params.max_dets = options.proposal_nums;
    params.iou_thrs = iou_thrs;
    if (metric == "proposal") params.use_cats = false;
    CocoEvaluator ev(*gt_, dt, params);
    t = Clock::now();
    print("Running per image evaluation...");
    print(std::string("Evaluate annotation type *") + (segm ? "segm" : "bbox") + "*");
    ev.evaluate();
    print(done_line(t, true));
    t = Clock::now();
    print("Accumulating evaluation results...");
    ev.accumulate();
    print(done_line(t, true));
    ev.summarize();
    std::string summary;
    for (const std::string& line : ev.summary_lines()) summary += line + "\n";
    print("\n" + summary);
    if (metric != "proposal" && options.classwise) print("\n" + classwise_ap_table(ev, *gt_));
    if (metric_items.empty() && metric == "proposal")
      metric_items = {"AR@100", "AR@300", "AR@1000", "AR_s@1000", "AR_m@1000", "AR_l@1000"};
    const MmdetCocoMetrics m = mmdet_coco_metrics(metric, ev.stats(), metric_items);
    for (const auto& [key, value] : m.values) eval_results.set(key, value);
    if (!m.copypaste_key.empty()) eval_results.set(m.copypaste_key, m.copypaste);
  }
  if (out) out->flush();
  return eval_results;
}

}  // namespace cppdet::data
