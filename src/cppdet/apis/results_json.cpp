#include "cppdet/apis/results_json.h"

#include <nlohmann/json.hpp>

#include <cctype>

#include "cppdet/core/atomic_file.h"
#include "cppdet/evaluation/mask_rle.h"
#include "cppdet/models/detector.h"
#include "cppdet/version.h"

namespace cppdet::apis {
namespace {

using nlohmann::json;

json shape_json(const std::array<int64_t, 3>& s) { return json::array({s[0], s[1], s[2]}); }

// shape, sum/mean/abs_mean/std/min/max (float64), first `n_first` values of the flat tensor.
json tensor_stats(const torch::Tensor& t, int64_t n_first = 8) {
  const torch::Tensor d = t.detach().to(torch::kCPU, torch::kFloat64);
  json s;
  s["shape"] = t.sizes().vec();
  s["sum"] = d.sum().item<double>();
  s["mean"] = d.mean().item<double>();
  s["abs_mean"] = d.abs().mean().item<double>();
  s["std"] = d.std(/*unbiased=*/true).item<double>();  // torch.std, as the oracle
  s["min"] = d.min().item<double>();
  s["max"] = d.max().item<double>();
  const torch::Tensor flat = d.flatten();
  s["first"] = std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + std::min(n_first, flat.numel()));
  return s;
}

json rows_json(const torch::Tensor& t, int64_t max_rows) {
  const torch::Tensor d = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  json rows = json::array();
  for (int64_t i = 0; i < std::min(max_rows, d.size(0)); ++i) {
    const double* p = d[i].data_ptr<double>();
    rows.push_back(std::vector<double>(p, p + d.size(1)));
  }
  return rows;
}

// The per-level tensors "<prefix>.0", "<prefix>.1", ... recorded in the trace.
json level_stats(const models::DebugTrace& trace, const std::string& prefix) {
  json out = json::array();
  for (int i = 0;; ++i) {
    const torch::Tensor* t = trace.find(prefix + "." + std::to_string(i));
    if (!t) return out;
    out.push_back(tensor_stats(*t));
  }
}

void add_trace(json& image, const models::DebugTrace& trace) {
  image["backbone"] = level_stats(trace, "backbone");
  image["neck"] = level_stats(trace, "neck");
  image["rpn_head"] = {{"cls_score", level_stats(trace, "rpn_head.cls_score")},
                       {"bbox_pred", level_stats(trace, "rpn_head.bbox_pred")}};
  if (const torch::Tensor* p = trace.find("rpn_proposals.0")) {
    image["num_proposals"] = p->size(0);
    image["rpn_proposals_top20"] = rows_json(*p, 20);
  }
  const torch::Tensor* cls = trace.find("roi_head.cls_score");
  const torch::Tensor* reg = trace.find("roi_head.bbox_pred");
  if (cls && reg) image["roi_head_first5_proposals"] = {{"cls_score", rows_json(*cls, 5)}, {"bbox_pred", rows_json(*reg, 5)}};
  if (const torch::Tensor* m = trace.find("mask_head.first5.mask_pred"))
    image["mask_head_first5_proposals"] = {{"mask_pred", tensor_stats(*m, 16)}};
}

json rle_json(const torch::Tensor& mask) {
  // Column-major bytes: the transposed [W, H] tensor in row-major order.
  const torch::Tensor cm = mask.to(torch::kCPU, torch::kUInt8).t().contiguous();
  const uint32_t h = static_cast<uint32_t>(mask.size(0)), w = static_cast<uint32_t>(mask.size(1));
  const evaluation::Rle rle = evaluation::rle_encode(cm.data_ptr<uint8_t>(), h, w);
  return {{"size", {h, w}}, {"counts", rle.counts}, {"counts_str", evaluation::rle_to_string(rle)},
          {"area", evaluation::rle_area(rle)}};
}

}  // namespace

std::string snake_case(const std::string& camel) {
  std::string out;
  for (size_t i = 0; i < camel.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(camel[i]);
    // A new word starts at an upper-case letter that follows a lower-case one, or that ends a
    // run of capitals before a lower-case letter ("RCNN" stays one word, "MaskRCNN" -> mask_rcnn).
    if (std::isupper(c) && i > 0 &&
        (std::islower(static_cast<unsigned char>(camel[i - 1])) ||
         (i + 1 < camel.size() && std::islower(static_cast<unsigned char>(camel[i + 1])) &&
          std::isupper(static_cast<unsigned char>(camel[i - 1])))))
      out += '_';
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

struct ResultsJsonWriter::Impl {
  json doc;
};

ResultsJsonWriter::ResultsJsonWriter(const InferenceModel& model) : impl_(std::make_unique<Impl>()) {
  json& d = impl_->doc;
  d["model_type"] = snake_case(model.detector->type_name());
  d["classes"] = model.class_names;
  d["versions"] = {{"cppdet", kVersion}};
  d["call"] = "cppdet infer (apis::init_detector + apis::inference_detector, device " + model.device + ")";
  d["checkpoint"] = model.checkpoint;
  d["bbox_format"] = "per class: list of [x1, y1, x2, y2, score] in original-image pixel coordinates";
  d["segm_format"] =
      "per class, parallel to bbox_result: COCO RLE {size: [H, W], counts (column-major run lengths starting "
      "with zeros), counts_str (pycocotools compressed form), area}";
  d["images"] = json::array();
}

ResultsJsonWriter::~ResultsJsonWriter() = default;

void ResultsJsonWriter::add(const std::string& file, const ImageMeta& meta, const DetResult& result,
                            const models::DebugTrace* trace) {
  json image;
  image["file"] = file;
  image["ori_shape"] = shape_json(meta.ori_shape);
  image["img_shape"] = shape_json(meta.img_shape);
  image["pad_shape"] = shape_json(meta.pad_shape);
  image["scale_factor"] = std::vector<double>(meta.scale_factor.begin(), meta.scale_factor.end());
  if (trace) add_trace(image, *trace);
  json bbox_result = json::array();
  json segm_result = json::array();
  int64_t count = 0;
  for (size_t c = 0; c < result.bboxes.size(); ++c) {
    bbox_result.push_back(rows_json(result.bboxes[c], INT64_MAX));
    count += result.bboxes[c].size(0);
    if (result.has_masks()) {
      json rles = json::array();
      for (int64_t i = 0; i < result.masks[c].size(0); ++i) rles.push_back(rle_json(result.masks[c][i]));
      segm_result.push_back(std::move(rles));
    }
  }
  image["bbox_result"] = std::move(bbox_result);
  if (result.has_masks()) image["segm_result"] = std::move(segm_result);
  image["num_detections"] = count;
  impl_->doc["images"].push_back(std::move(image));
}

std::string ResultsJsonWriter::dump() const { return impl_->doc.dump(); }

void ResultsJsonWriter::write(const std::string& path) const {
  write_file_atomically(path, [&](std::ostream& out) { out << impl_->doc.dump() << "\n"; });
}

}  // namespace cppdet::apis
