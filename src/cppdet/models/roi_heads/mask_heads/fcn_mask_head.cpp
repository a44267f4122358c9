#include "cppdet/models/roi_heads/mask_heads/fcn_mask_head.h"

#include <ATen/core/grad_mode.h>
#include <torch/nn/functional/upsampling.h>

#include <cmath>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/models/registries.h"
#include "cppdet/models/task/mask_target.h"
#include "cppdet/ops/mask_paste.h"

namespace cppdet::models {

namespace {

// ConvTranspose2d whose kernel equals its stride (no padding): every input pixel writes its own
// k x k output block, out[n, o, k y + i, k x + j] = b[o] + sum_c x[n, c, y, x] w[c, o, i, j]. As
// one GEMM over all RoIs: the same sums as aten's slow_conv_transpose2d (a GEMM per RoI, then
// col2im only places them), up to float rounding, several times faster for a batch of RoIs.
torch::Tensor deconv_as_gemm(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t k) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3), o = w.size(1);
  const torch::Tensor cols = torch::matmul(x.permute({0, 2, 3, 1}).reshape({n * h * wd, c}), w.reshape({c, o * k * k}));
  torch::Tensor out = cols.view({n, h, wd, o, k, k}).permute({0, 3, 1, 4, 2, 5}).reshape({n, o, h * k, wd * k});
  return b.defined() ? out + b.view({1, o, 1, 1}) : out;
}

}  // namespace

FCNMaskHeadOptions FCNMaskHeadOptions::from_config(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  FCNMaskHeadOptions o;
  o.num_convs = r.get_int("num_convs", 4);
  o.roi_feat_size = r.get_int("roi_feat_size", 14);
  o.in_channels = r.get_int("in_channels", 256);
  o.conv_kernel_size = r.get_int("conv_kernel_size", 3);
  o.conv_out_channels = r.get_int("conv_out_channels", 256);
  o.num_classes = r.get_int("num_classes", 80);
  o.class_agnostic = r.get_bool("class_agnostic", false);
  if (r.has("upsample_cfg")) {
    const config::Value& u = r.get("upsample_cfg");
    if (u.is_none()) {
      o.upsample_method = "";
    } else {
      config::ConfigReader ur(u, r.path_of("upsample_cfg"));
      o.upsample_method = ur.get_string("type");
      if (o.upsample_method != "deconv" && o.upsample_method != "nearest" && o.upsample_method != "bilinear")
        throw ConfigError(ur.path_of("type") + ": unsupported upsample '" + o.upsample_method +
                          "'; known: deconv, nearest, bilinear");
      o.scale_factor = ur.get_int("scale_factor", 2);
      ur.finish();
    }
  }
  o.norm_cfg = NormConfig::from_config(r.get_optional("norm_cfg"), r.path_of("norm_cfg"));
  if (r.get_optional("conv_cfg")) throw ConfigError(r.path_of("conv_cfg") + ": only the default Conv2d is supported");
  if (const config::Value* v = r.get_optional("predictor_cfg")) {
    config::ConfigReader p(*v, r.path_of("predictor_cfg"));
    if (p.get_string("type") != "Conv" && p.get_string("type") != "Conv2d")
      throw ConfigError(p.path_of("type") + ": only Conv is supported");
    p.finish();
  }
  if (r.has("loss_mask")) o.loss_mask = r.get("loss_mask");
  o.loss_mask_path = r.path_of("loss_mask");
  r.ignore({"init_cfg"});
  r.finish();
  if (o.conv_kernel_size % 2 != 1) throw ConfigError(r.path_of("conv_kernel_size") + ": must be odd");
  return o;
}

FCNMaskHead::FCNMaskHead(FCNMaskHeadOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  convs_ = register_module("convs", torch::nn::ModuleList());
  const int64_t pad = (o.conv_kernel_size - 1) / 2;
  for (int64_t i = 0; i < o.num_convs; ++i)
    convs_->push_back(ConvModule(ConvModuleOptions{i == 0 ? o.in_channels : o.conv_out_channels, o.conv_out_channels,
                                                   o.conv_kernel_size, 1, pad, 1, o.norm_cfg, true}));
  const int64_t upsample_in = o.num_convs > 0 ? o.conv_out_channels : o.in_channels;
  if (o.upsample_method == "deconv")
    upsample_ = register_module("upsample", torch::nn::ConvTranspose2d(
        torch::nn::ConvTranspose2dOptions(upsample_in, o.conv_out_channels, o.scale_factor).stride(o.scale_factor)));
  const int64_t logits_in = o.upsample_method == "deconv" ? o.conv_out_channels : upsample_in;
  conv_logits_ = register_module("conv_logits", torch::nn::Conv2d(torch::nn::Conv2dOptions(logits_in, o.class_agnostic ? 1 : o.num_classes, 1)));
}

torch::Tensor FCNMaskHead::forward(const torch::Tensor& roi_feats) {
  const bool prepared = prepared_.applies(*this, *this, roi_feats);
  torch::Tensor x = roi_feats;
  for (const auto& m : *convs_) x = m->as<ConvModuleImpl>()->forward(x);
  if (upsample_) {
    // Inference takes the GEMM form (or the prepared bf16/int8 layer); training keeps aten's
    // kernel (the gradients MMDetection's parity cases were checked with).
    if (prepared)
      x = prepared_upsample_(x);
    else
      x = torch::relu(at::GradMode::is_enabled()
                          ? upsample_->forward(x)
                          : deconv_as_gemm(x, upsample_->weight, upsample_->bias, options_.scale_factor));
  } else if (!options_.upsample_method.empty()) {
    namespace F = torch::nn::functional;
    const double s = static_cast<double>(options_.scale_factor);
    auto opts = F::InterpolateFuncOptions().scale_factor(std::vector<double>{s, s});
    if (options_.upsample_method == "nearest") opts.mode(torch::kNearest);
    else opts.mode(torch::kBilinear).align_corners(false);
    x = F::interpolate(x, opts);
  }
  return prepared ? prepared_logits_(x) : conv_logits_->forward(x);
}

bool FCNMaskHead::set_inference_precision(const InferencePrecision& precision, const std::string& path) {
  prepared_upsample_ = prepared_logits_ = PreparedConv();
  const bool prepare = precision.mode != PrecisionMode::kFp32 && !is_training();
  if (prepare) {
    PreparedConvOptions relu, logits;
    relu.relu = true;
    logits.float_output = true;
    if (upsample_)
      prepared_upsample_ = PreparedConv(deconv_weights(*upsample_), precision, child_path(path, "upsample"), relu);
    prepared_logits_ = PreparedConv(conv_weights(*conv_logits_, nullptr), precision, child_path(path, "conv_logits"), logits);
  }
  prepared_.set(prepare, precision, path, *this);
  return prepare;
}

torch::Tensor FCNMaskHead::label_probs(const torch::Tensor& mask_pred, const torch::Tensor& labels) const {
  // The channel first, then the sigmoid: element-wise the same numbers as mmdet's sigmoid of
  // every channel followed by the pick.
  if (options_.class_agnostic) return mask_pred.select(1, 0).sigmoid();
  return mask_pred.index({torch::arange(mask_pred.size(0), labels.options().dtype(torch::kLong)), labels}).sigmoid();
}

torch::Tensor FCNMaskHead::paste_masks(const torch::Tensor& probs, const torch::Tensor& bboxes, double mask_thr_binary,
                                       std::array<int64_t, 2> ori_shape, const std::array<float, 4>& scale_factor,
                                       bool rescale) const {
  torch::Tensor boxes = bboxes.narrow(1, 0, 4);
  int64_t img_h = ori_shape[0], img_w = ori_shape[1];
  if (rescale) {
    boxes = boxes / torch::tensor({scale_factor[0], scale_factor[1], scale_factor[2], scale_factor[3]}, boxes.options());
  } else {
    // np.round (half to even) of the scaled original size.
    img_h = static_cast<int64_t>(std::nearbyint(static_cast<double>(ori_shape[0]) * static_cast<double>(scale_factor[1])));
    img_w = static_cast<int64_t>(std::nearbyint(static_cast<double>(ori_shape[1]) * static_cast<double>(scale_factor[0])));
  }
  return ops::paste_masks(probs, boxes, img_h, img_w, mask_thr_binary);
}

LossTerms FCNMaskHead::loss(const torch::Tensor& mask_pred, const std::vector<SamplingResult>& sampling_results,
                           const std::vector<torch::Tensor>& gt_masks, std::pair<int64_t, int64_t> mask_size) {
  if (!loss_mask_) {
    config::Value cfg = options_.loss_mask;
    if (cfg.is_none()) {
      config::Dict d;
      d.set("type", "CrossEntropyLoss");
      d.set("use_mask", true);
      cfg = d;
    }
    loss_mask_ = loss_registry().build(cfg, options_.loss_mask_path);
  }
  if (mask_pred.size(0) == 0) return {{"loss_mask", mask_pred.sum()}};
  const torch::Tensor targets = mask_target(sampling_results, gt_masks, mask_size).to(mask_pred.device());
  std::vector<torch::Tensor> labels;
  for (const SamplingResult& s : sampling_results) labels.push_back(s.pos_gt_labels);
  torch::Tensor pos_labels = torch::cat(labels);
  if (options_.class_agnostic) pos_labels = torch::zeros_like(pos_labels);
  return {{"loss_mask", (*loss_mask_)(mask_pred, targets, pos_labels)}};
}

}  // namespace cppdet::models
