#include "cppdet/models/roi_heads/bbox_heads/convfc_bbox_head.h"

#include <torch/nn/functional/pooling.h>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/models/registries.h"
#include "cppdet/models/roi_heads/bbox_heads/bbox_head_loss.h"

namespace cppdet::models {

ConvFCBBoxHeadOptions ConvFCBBoxHeadOptions::from_config(const config::Value& cfg, const std::string& path,
                                                         const std::string& preset) {
  config::ConfigReader r(cfg, path);
  ConvFCBBoxHeadOptions o;
  o.with_avg_pool = r.get_bool("with_avg_pool", false);
  o.with_cls = r.get_bool("with_cls", true);
  o.with_reg = r.get_bool("with_reg", true);
  o.roi_feat_size = r.get_int_or_ints("roi_feat_size", 2)[0];
  o.in_channels = r.get_int("in_channels", 256);
  o.num_classes = r.get_int("num_classes", 80);
  if (r.has("bbox_coder")) {
    o.bbox_coder = r.get("bbox_coder");
  } else {
    config::Dict coder;
    coder.set("type", "DeltaXYWHBBoxCoder");
    coder.set("clip_border", true);
    coder.set("target_means", config::Value::list({0.0, 0.0, 0.0, 0.0}));
    coder.set("target_stds", config::Value::list({0.1, 0.1, 0.2, 0.2}));
    o.bbox_coder = coder;
  }
  o.bbox_coder_path = r.path_of("bbox_coder");
  o.reg_class_agnostic = r.get_bool("reg_class_agnostic", false);
  o.reg_decoded_bbox = r.get_bool("reg_decoded_bbox", false);
  for (const char* key : {"reg_predictor_cfg", "cls_predictor_cfg"}) {
    if (const config::Value* v = r.get_optional(key)) {
      config::ConfigReader p(*v, r.path_of(key));
      if (p.get_string("type") != "Linear") throw ConfigError(p.path_of("type") + ": only Linear is supported");
      p.finish();
    }
  }
  if (r.has("loss_cls")) o.loss_cls = r.get("loss_cls");
  o.loss_cls_path = r.path_of("loss_cls");
  if (r.has("loss_bbox")) o.loss_bbox = r.get("loss_bbox");
  o.loss_bbox_path = r.path_of("loss_bbox");
  if (preset == "Shared2FCBBoxHead") {
    o.num_shared_fcs = 2;
  } else if (preset == "Shared4Conv1FCBBoxHead") {
    o.num_shared_convs = 4;
    o.num_shared_fcs = 1;
  } else {
    o.num_shared_convs = r.get_int("num_shared_convs", 0);
    o.num_shared_fcs = r.get_int("num_shared_fcs", 0);
    o.num_cls_convs = r.get_int("num_cls_convs", 0);
    o.num_cls_fcs = r.get_int("num_cls_fcs", 0);
    o.num_reg_convs = r.get_int("num_reg_convs", 0);
    o.num_reg_fcs = r.get_int("num_reg_fcs", 0);
  }
  o.conv_out_channels = r.get_int("conv_out_channels", 256);
  o.fc_out_channels = r.get_int("fc_out_channels", 1024);
  o.norm_cfg = NormConfig::from_config(r.get_optional("norm_cfg"), r.path_of("norm_cfg"));
  if (r.get_optional("conv_cfg")) throw ConfigError(r.path_of("conv_cfg") + ": only the default Conv2d is supported");
  r.ignore({"init_cfg"});
  r.finish();
  if (o.num_shared_convs + o.num_shared_fcs + o.num_cls_convs + o.num_cls_fcs + o.num_reg_convs + o.num_reg_fcs <= 0)
    throw ConfigError(path + ": the head needs at least one conv or fc layer");
  if ((o.num_cls_convs > 0 || o.num_reg_convs > 0) && o.num_shared_fcs != 0)
    throw ConfigError(path + ": separate cls/reg convs need num_shared_fcs == 0");
  if (!o.with_cls && (o.num_cls_convs > 0 || o.num_cls_fcs > 0))
    throw ConfigError(path + ": with_cls=False but cls branch layers given");
  if (!o.with_reg && (o.num_reg_convs > 0 || o.num_reg_fcs > 0))
    throw ConfigError(path + ": with_reg=False but reg branch layers given");
  return o;
}

ConvFCBBoxHead::ConvFCBBoxHead(ConvFCBBoxHeadOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  bbox_coder_ = bbox_coder_registry().build(o.bbox_coder, o.bbox_coder_path);
  const int64_t area = o.roi_feat_size * o.roi_feat_size;

  // _add_conv_fc_branch: returns the branch's output dimension.
  auto add_branch = [&](int64_t num_convs, int64_t num_fcs, int64_t in, bool is_shared, torch::nn::ModuleList& convs,
                        torch::nn::ModuleList& fcs) {
    int64_t last = in;
    for (int64_t i = 0; i < num_convs; ++i)
      convs->push_back(ConvModule(ConvModuleOptions{i == 0 ? last : o.conv_out_channels, o.conv_out_channels, 3, 1, 1, 1, o.norm_cfg, true}));
    if (num_convs > 0) last = o.conv_out_channels;
    if (num_fcs > 0) {
      if ((is_shared || o.num_shared_fcs == 0) && !o.with_avg_pool) last *= area;
      for (int64_t i = 0; i < num_fcs; ++i) fcs->push_back(torch::nn::Linear(i == 0 ? last : o.fc_out_channels, o.fc_out_channels));
      last = o.fc_out_channels;
    }
    return last;
  };
  shared_convs_ = torch::nn::ModuleList();
  shared_fcs_ = torch::nn::ModuleList();
  cls_convs_ = torch::nn::ModuleList();
  cls_fcs_ = torch::nn::ModuleList();
  reg_convs_ = torch::nn::ModuleList();
  reg_fcs_ = torch::nn::ModuleList();
  const int64_t shared_out = add_branch(o.num_shared_convs, o.num_shared_fcs, o.in_channels, true, shared_convs_, shared_fcs_);
  int64_t cls_last = add_branch(o.num_cls_convs, o.num_cls_fcs, shared_out, false, cls_convs_, cls_fcs_);
  int64_t reg_last = add_branch(o.num_reg_convs, o.num_reg_fcs, shared_out, false, reg_convs_, reg_fcs_);
  if (o.num_shared_fcs == 0 && !o.with_avg_pool) {
    if (o.num_cls_fcs == 0) cls_last *= area;
    if (o.num_reg_fcs == 0) reg_last *= area;
  }
  // Registration order = mmdet's state_dict order: BBoxHead creates fc_cls / fc_reg first.
  if (o.with_cls) fc_cls_ = register_module("fc_cls", torch::nn::Linear(cls_last, o.num_classes + 1));
  if (o.with_reg) fc_reg_ = register_module("fc_reg", torch::nn::Linear(reg_last, o.reg_class_agnostic ? 4 : 4 * o.num_classes));
  register_module("shared_convs", shared_convs_);
  register_module("shared_fcs", shared_fcs_);
  register_module("cls_convs", cls_convs_);
  register_module("cls_fcs", cls_fcs_);
  register_module("reg_convs", reg_convs_);
  register_module("reg_fcs", reg_fcs_);
}

namespace {

// [K, C, h, w] -> [K, C*h*w] in C, h, w order (a quantized channels-last activation is made
// contiguous first: quantized tensors have no strided reshape).
torch::Tensor flatten_rois(const torch::Tensor& x) {
  return (x.is_quantized() ? x.contiguous() : x).flatten(1);
}

// The fcs of one ModuleList, each followed by ReLU, prepared under "<path>.<list>.<i>".
std::vector<PreparedLinear> prepare_fcs(const torch::nn::ModuleList& fcs, const InferencePrecision& precision,
                                        const std::string& path, const std::string& list) {
  std::vector<PreparedLinear> out;
  for (size_t i = 0; i < fcs->size(); ++i)
    out.emplace_back(*fcs->ptr(i)->as<torch::nn::LinearImpl>(), precision,
                     child_path(path, list + "." + std::to_string(i)), /*relu=*/true, /*float_output=*/false);
  return out;
}

}  // namespace

torch::Tensor ConvFCBBoxHead::run_branch(torch::Tensor x, torch::nn::ModuleList& convs, torch::nn::ModuleList& fcs,
                                         const std::vector<PreparedLinear>* prepared_fcs) const {
  for (const auto& m : *convs) x = m->as<ConvModuleImpl>()->forward(x);
  if (x.dim() > 2) {
    if (options_.with_avg_pool) x = torch::adaptive_avg_pool2d(x, {1, 1});
    x = flatten_rois(x);
  }
  if (prepared_fcs) {
    for (const PreparedLinear& fc : *prepared_fcs) x = fc(x);
    return x;
  }
  for (const auto& m : *fcs) x = torch::relu(m->as<torch::nn::LinearImpl>()->forward(x));
  return x;
}

BBoxHeadOutputs ConvFCBBoxHead::forward(const torch::Tensor& roi_feats) {
  const bool prepared = prepared_.applies(*this, *this, roi_feats);
  torch::Tensor x = roi_feats;
  for (const auto& m : *shared_convs_) x = m->as<ConvModuleImpl>()->forward(x);
  if (options_.num_shared_fcs > 0) {
    if (options_.with_avg_pool) x = torch::adaptive_avg_pool2d(x, {1, 1});
    x = flatten_rois(x);
    if (prepared) {
      for (const PreparedLinear& fc : prepared_shared_fcs_) x = fc(x);
    } else {
      for (const auto& m : *shared_fcs_) x = torch::relu(m->as<torch::nn::LinearImpl>()->forward(x));
    }
  }
  const torch::Tensor x_cls = run_branch(x, cls_convs_, cls_fcs_, prepared ? &prepared_cls_fcs_ : nullptr);
  const torch::Tensor x_reg = run_branch(x, reg_convs_, reg_fcs_, prepared ? &prepared_reg_fcs_ : nullptr);
  BBoxHeadOutputs out;
  if (fc_cls_) out.cls_score = prepared ? prepared_cls_(x_cls) : fc_cls_->forward(x_cls);
  if (fc_reg_) out.bbox_pred = prepared ? prepared_reg_(x_reg) : fc_reg_->forward(x_reg);
  return out;
}

bool ConvFCBBoxHead::set_inference_precision(const InferencePrecision& precision, const std::string& path) {
  prepared_shared_fcs_.clear();
  prepared_cls_fcs_.clear();
  prepared_reg_fcs_.clear();
  prepared_cls_ = prepared_reg_ = PreparedLinear();
  const bool prepare = precision.mode != PrecisionMode::kFp32 && !is_training();
  if (prepare) {
    prepared_shared_fcs_ = prepare_fcs(shared_fcs_, precision, path, "shared_fcs");
    prepared_cls_fcs_ = prepare_fcs(cls_fcs_, precision, path, "cls_fcs");
    prepared_reg_fcs_ = prepare_fcs(reg_fcs_, precision, path, "reg_fcs");
    if (fc_cls_) prepared_cls_ = PreparedLinear(*fc_cls_, precision, child_path(path, "fc_cls"), false, true);
    if (fc_reg_) prepared_reg_ = PreparedLinear(*fc_reg_, precision, child_path(path, "fc_reg"), false, true);
  }
  prepared_.set(prepare, precision, path, *this);
  return prepare;
}

Detections ConvFCBBoxHead::get_bboxes(const torch::Tensor& rois, const BBoxHeadOutputs& outputs,
                                      std::pair<int64_t, int64_t> img_shape, const std::array<float, 4>& scale_factor,
                                      bool rescale, const RcnnTestConfig& cfg) {
  using torch::indexing::None;
  using torch::indexing::Slice;
  const torch::Tensor scores = torch::softmax(outputs.cls_score, -1);
  torch::Tensor bboxes;
  if (outputs.bbox_pred.defined()) {
    bboxes = bbox_coder_->decode(rois.index({Slice(), Slice(1, None)}), outputs.bbox_pred, img_shape);
  } else {
    // mmdet clamps a copy here (advanced indexing), so the boxes stay unclipped.
    bboxes = rois.index({Slice(), Slice(1, None)}).clone();
  }
  if (rescale && bboxes.size(0) > 0) {
    const torch::Tensor sf = torch::tensor({scale_factor[0], scale_factor[1], scale_factor[2], scale_factor[3]}, bboxes.options());
    bboxes = (bboxes.view({bboxes.size(0), -1, 4}) / sf).view({bboxes.size(0), -1});
  }
  return multiclass_nms(bboxes, scores, cfg.score_thr, cfg.nms, cfg.max_per_img);
}

torch::Tensor ConvFCBBoxHead::regress_by_class(const torch::Tensor& boxes, const torch::Tensor& labels,
                                               const torch::Tensor& bbox_pred, std::pair<int64_t, int64_t> img_shape) const {
  if (!bbox_pred.defined()) throw UserError("regress_by_class: the bbox head has no regression branch (with_reg=False)");
  torch::Tensor deltas = bbox_pred;  // [K, 4] or [K, 4 * num_classes]
  if (!options_.reg_class_agnostic) {
    const torch::Tensor l = labels.to(torch::kLong) * 4;
    deltas = bbox_pred.gather(1, torch::stack({l, l + 1, l + 2, l + 3}, 1));
  }
  return bbox_coder_->decode(boxes, deltas, img_shape);
}

LossTerms ConvFCBBoxHead::loss(const BBoxHeadOutputs& outputs, const torch::Tensor& rois,
                               const std::vector<SamplingResult>& sampling_results, double pos_weight) {
  if (!loss_cls_) {
    config::Value cls = options_.loss_cls, box = options_.loss_bbox;
    if (cls.is_none()) {
      config::Dict d;
      d.set("type", "CrossEntropyLoss");
      d.set("use_sigmoid", false);
      cls = d;
    }
    if (box.is_none()) {
      config::Dict d;
      d.set("type", "SmoothL1Loss");
      d.set("beta", 1.0);
      box = d;
    }
    loss_cls_ = loss_registry().build(cls, options_.loss_cls_path);
    loss_bbox_ = loss_registry().build(box, options_.loss_bbox_path);
  }
  const BBoxTargets targets =
      bbox_head_targets(sampling_results, *bbox_coder_, options_.num_classes, pos_weight, options_.reg_decoded_bbox);
  BBoxLossSettings s;
  s.num_classes = options_.num_classes;
  s.reg_class_agnostic = options_.reg_class_agnostic;
  s.reg_decoded_bbox = options_.reg_decoded_bbox;
  s.coder = bbox_coder_.get();
  s.loss_cls = loss_cls_.get();
  s.loss_bbox = loss_bbox_.get();
  return bbox_head_loss(outputs, rois, targets, s);
}

}  // namespace cppdet::models
