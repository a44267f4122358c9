// The built-in transform table: every pipeline step cppdet knows, each built from its
// config dict with the same keys and defaults as mmdet 2.x.

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/core/warnings.h"
#include "cppdet/data/transforms/auto_augment.h"
#include "cppdet/data/transforms/compose.h"
#include "cppdet/data/transforms/formatting.h"
#include "cppdet/data/transforms/geometric_augment.h"
#include "cppdet/data/transforms/load_annotations.h"
#include "cppdet/data/transforms/loading.h"
#include "cppdet/data/transforms/multi_scale_flip_aug.h"
#include "cppdet/data/transforms/normalize.h"
#include "cppdet/data/transforms/pad.h"
#include "cppdet/data/transforms/photometric_augment.h"
#include "cppdet/data/transforms/random_flip.h"
#include "cppdet/data/transforms/resize.h"

namespace cppdet::data {
namespace {

using config::ConfigReader;
using config::Value;

// A 2-tuple of ints.
std::array<int64_t, 2> read_pair(const Value& v, const std::string& path) {
  if (!v.is_sequence() || v.as_sequence().size() != 2 || !v.as_sequence()[0].is_number() ||
      !v.as_sequence()[1].is_number())
    throw ConfigError(path + ": expected a (w, h) pair of ints, got " + v.brief());
  return {static_cast<int64_t>(v.as_sequence()[0].as_number()), static_cast<int64_t>(v.as_sequence()[1].as_number())};
}

// One (w, h) tuple, or a list of them (mmdet accepts both for img_scale).
std::vector<std::array<int64_t, 2>> read_scales(const Value& v, const std::string& path) {
  if (v.is_sequence() && !v.as_sequence().empty() && v.as_sequence()[0].is_sequence()) {
    std::vector<std::array<int64_t, 2>> out;
    for (size_t i = 0; i < v.as_sequence().size(); ++i)
      out.push_back(read_pair(v.as_sequence()[i], path + "[" + std::to_string(i) + "]"));
    return out;
  }
  return {read_pair(v, path)};
}

// A string or a list of strings.
std::vector<std::string> read_strings(const Value& v, const std::string& path) {
  if (v.is_string()) return {v.as_string()};
  std::vector<std::string> out;
  if (v.is_sequence())
    for (const Value& item : v.as_sequence()) {
      if (!item.is_string()) break;
      out.push_back(item.as_string());
    }
  if (out.empty() || (v.is_sequence() && out.size() != v.as_sequence().size()))
    throw ConfigError(path + ": expected str or list of str, got " + v.brief());
  return out;
}

// A number or a list of numbers.
std::vector<double> read_numbers(const Value& v, const std::string& path) {
  if (v.is_number()) return {v.as_number()};
  std::vector<double> out;
  if (v.is_sequence())
    for (const Value& item : v.as_sequence()) {
      if (!item.is_number()) throw ConfigError(path + ": expected number or list of numbers, got " + v.brief());
      out.push_back(item.as_number());
    }
  else
    throw ConfigError(path + ": expected number or list of numbers, got " + v.brief());
  return out;
}

// pad_val: a number (applies to img and masks) or dict(img=..., masks=..., seg=...).
void read_pad_val(ConfigReader& r, Pad::Options& o) {
  const Value* v = r.get_optional("pad_val");
  if (!v) return;
  if (v->is_number()) {
    o.pad_val_img = o.pad_val_masks = v->as_number();
    return;
  }
  ConfigReader pr(*v, r.path_of("pad_val"));
  o.pad_val_img = pr.get_number("img", 0.0);
  o.pad_val_masks = pr.get_number("masks", 0.0);
  o.pad_val_seg = pr.get_number("seg", 255.0);
  pr.finish();
}

void check_disk_backend(ConfigReader& r) {
  if (const Value* v = r.get_optional("file_client_args")) {
    ConfigReader fr(*v, r.path_of("file_client_args"));
    const std::string backend = fr.get_string("backend", "disk");
    if (backend != "disk") throw ConfigError(fr.path_of("backend") + ": only 'disk' is supported, got '" + backend + "'");
    fr.finish();
  }
}

std::unique_ptr<Transform> build_load_image(const BuildContext& ctx) {
  ConfigReader r(ctx.cfg, ctx.path);
  LoadImageFromFile::Options o;
  o.to_float32 = r.get_bool("to_float32", false);
  const std::string color_type = r.get_string("color_type", "color");
  if (color_type == "color_ignore_orientation") o.ignore_orientation = true;
  else if (color_type != "color")
    throw ConfigError(r.path_of("color_type") + ": only 'color' and 'color_ignore_orientation' are supported, got '" +
                      color_type + "'");
  const std::string order = r.get_string("channel_order", "bgr");
  if (order != "bgr" && order != "rgb")
    throw ConfigError(r.path_of("channel_order") + ": expected 'bgr' or 'rgb', got '" + order + "'");
  o.to_rgb = order == "rgb";
  check_disk_backend(r);
  r.finish();
  return std::make_unique<LoadImageFromFile>(o);
}

std::unique_ptr<Transform> build_load_webcam(const BuildContext& ctx) {
  ConfigReader r(ctx.cfg, ctx.path);
  const bool to_float32 = r.get_bool("to_float32", false);
  r.ignore({"color_type", "channel_order"});
  check_disk_backend(r);
  r.finish();
  return std::make_unique<LoadImageFromWebcam>(to_float32);
}

std::unique_ptr<Transform> build_load_annotations(const BuildContext& ctx) {
  ConfigReader r(ctx.cfg, ctx.path);
  LoadAnnotations::Options o;
  o.with_bbox = r.get_bool("with_bbox", true);
  o.with_label = r.get_bool("with_label", true);
  o.with_mask = r.get_bool("with_mask", false);
  if (r.get_bool("with_seg", false))
    throw ConfigError(r.path_of("with_seg") + ": semantic segmentation maps are not supported");
  // poly2mask=False (mmdet's PolygonMasks) is loaded as bitmaps too: cppdet's mask targets are
  // always cut from bitmaps.
  if (!r.get_bool("poly2mask", true) && o.with_mask) {
    warn_once("poly2mask", "LoadAnnotations(poly2mask=False): polygon masks are loaded as bitmaps "
                           "(mask targets come from bitmaps, not from polygons as in mmdet)");
  }
  if (r.get_bool("denorm_bbox", false))
    throw ConfigError(r.path_of("denorm_bbox") + ": normalized boxes are not supported");
  check_disk_backend(r);
  r.finish();
  return std::make_unique<LoadAnnotations>(o);
}

std::unique_ptr<Transform> build_resize(const BuildContext& ctx) {
  ConfigReader r(ctx.cfg, ctx.path);
  Resize::Options o;
  if (const Value* v = r.get_optional("img_scale")) o.img_scale = read_scales(*v, r.path_of("img_scale"));
  const std::string mode = r.get_string("multiscale_mode", "range");
  if (mode == "value") o.multiscale_mode = Resize::MultiscaleMode::Value;
  else if (mode != "range")
    throw ConfigError(r.path_of("multiscale_mode") + ": expected 'range' or 'value', got '" + mode + "'");
  if (r.get_optional("ratio_range")) {
    const std::vector<double> rr = r.get_numbers("ratio_range");
    if (rr.size() != 2) throw ConfigError(r.path_of("ratio_range") + ": expected (min, max)");
    o.ratio_range = std::array<double, 2>{rr[0], rr[1]};
  }
  o.keep_ratio = r.get_bool("keep_ratio", true);
  o.bbox_clip_border = r.get_bool("bbox_clip_border", true);
  const std::string backend = r.get_string("backend", "cv2");
  if (backend != "cv2") throw ConfigError(r.path_of("backend") + ": only 'cv2' is supported, got '" + backend + "'");
  o.interpolation = interpolation_code(r.get_string("interpolation", "bilinear"), r.path_of("interpolation"));
  o.override_scale = r.get_bool("override", false);
  r.finish();
  return std::make_unique<Resize>(std::move(o));
}

std::unique_ptr<Transform> build_random_flip(const BuildContext& ctx) {
  ConfigReader r(ctx.cfg, ctx.path);
  RandomFlip::Options o;
  if (const Value* v = r.get_optional("flip_ratio")) o.flip_ratio = read_numbers(*v, r.path_of("flip_ratio"));
  if (const Value* v = r.get_optional("direction")) o.direction = read_strings(*v, r.path_of("direction"));
  for (const std::string& d : o.direction) check_flip_direction(d, r.path_of("direction"));
  r.finish();
  return std::make_unique<RandomFlip>(std::move(o));
}

std::unique_ptr<Transform> build_normalize(const BuildContext& ctx) {
  ConfigReader r(ctx.cfg, ctx.path);
  ImageNormConfig cfg;
  const std::vector<double> mean = r.get_numbers("mean"), std = r.get_numbers("std");
  if (mean.size() != 3) throw ConfigError(r.path_of("mean") + ": expected 3 values");
  if (std.size() != 3) throw ConfigError(r.path_of("std") + ": expected 3 values");
  for (int c = 0; c < 3; ++c) {
    if (std[c] == 0) throw ConfigError(r.path_of("std") + ": values must be non-zero");
    cfg.mean[c] = mean[c];
    cfg.std[c] = std[c];
  }
  cfg.to_rgb = r.get_bool("to_rgb", true);
  r.finish();
  return std::make_unique<Normalize>(cfg);
}

std::unique_ptr<Transform> build_pad(const BuildContext& ctx) {
  ConfigReader r(ctx.cfg, ctx.path);
  Pad::Options o;
  if (const Value* v = r.get_optional("size")) o.size = read_pair(*v, r.path_of("size"));
  if (r.get_optional("size_divisor")) o.size_divisor = r.get_int("size_divisor");
  o.pad_to_square = r.get_bool("pad_to_square", false);
  read_pad_val(r, o);
  r.finish();
  return std::make_unique<Pad>(o);
}

std::unique_ptr<Transform> build_image_to_tensor(const BuildContext& ctx) {
  ConfigReader r(ctx.cfg, ctx.path);
  for (const std::string& key : r.get_strings("keys"))
    if (key != "img") throw ConfigError(r.path_of("keys") + ": only 'img' is supported, got '" + key + "'");
  r.finish();
  return std::make_unique<ImageToTensor>();
}

std::unique_ptr<Transform> build_format_bundle(const BuildContext& ctx) {
  ConfigReader r(ctx.cfg, ctx.path);
  const bool img_to_float = r.get_bool("img_to_float", true);
  r.ignore({"pad_val"});  // batch padding is always 0 for images (collate_images)
  r.finish();
  return std::make_unique<DefaultFormatBundle>(img_to_float);
}

std::unique_ptr<Transform> build_collect(const BuildContext& ctx) {
  ConfigReader r(ctx.cfg, ctx.path);
  std::vector<std::string> keys = r.get_strings("keys");
  r.ignore({"meta_keys"});  // ImageMeta always carries every meta key
  r.finish();
  return std::make_unique<Collect>(std::move(keys));
}

std::unique_ptr<Transform> build_multi_scale_flip_aug(const BuildContext& ctx) {
  ConfigReader r(ctx.cfg, ctx.path);
  MultiScaleFlipAug::Options o;
  if (const Value* v = r.get_optional("img_scale")) o.img_scale = read_scales(*v, r.path_of("img_scale"));
  if (const Value* v = r.get_optional("scale_factor")) o.scale_factor = read_numbers(*v, r.path_of("scale_factor"));
  if (o.img_scale.empty() == o.scale_factor.empty())
    throw ConfigError(ctx.path + ": set exactly one of img_scale and scale_factor");
  o.flip = r.get_bool("flip", false);
  if (const Value* v = r.get_optional("flip_direction")) o.flip_direction = read_strings(*v, r.path_of("flip_direction"));
  for (const std::string& d : o.flip_direction) check_flip_direction(d, r.path_of("flip_direction"));
  auto inner = build_compose(r.get("transforms"), r.path_of("transforms"));
  r.finish();
  return std::make_unique<MultiScaleFlipAug>(std::move(o), std::move(inner));
}

// The options Shear, Rotate and Translate share (mmdet's defaults).
GeometricAugmentOptions read_geometric_common(ConfigReader& r) {
  GeometricAugmentOptions o;
  o.level = r.get_number("level");
  o.prob = r.get_number("prob", 0.5);
  if (const Value* v = r.get_optional("img_fill_val")) {
    const std::vector<double> fill = read_numbers(*v, r.path_of("img_fill_val"));
    if (v->is_number()) o.img_fill_val = {fill[0], fill[0], fill[0]};
    else if (fill.size() == 3) o.img_fill_val = {fill[0], fill[1], fill[2]};
    else throw ConfigError(r.path_of("img_fill_val") + ": expected a number or 3 numbers, got " + v->brief());
  }
  o.seg_ignore_label = r.get_int("seg_ignore_label", 255);
  o.random_negative_prob = r.get_number("random_negative_prob", 0.5);
  return o;
}

// direction='horizontal' (true) or 'vertical' (false).
bool read_horizontal(ConfigReader& r) {
  const std::string direction = r.get_string("direction", "horizontal");
  if (direction != "horizontal" && direction != "vertical")
    throw ConfigError(r.path_of("direction") + ": expected 'horizontal' or 'vertical', got '" + direction + "'");
  return direction == "horizontal";
}

std::unique_ptr<Transform> build_shear(const BuildContext& ctx) {
  ConfigReader r(ctx.cfg, ctx.path);
  Shear::Options o;
  o.common = read_geometric_common(r);
  o.horizontal = read_horizontal(r);
  o.max_shear_magnitude = r.get_number("max_shear_magnitude", 0.3);
  o.interpolation = interpolation_code(r.get_string("interpolation", "bilinear"), r.path_of("interpolation"));
  r.finish();
  return std::make_unique<Shear>(o, ctx.path);
}

std::unique_ptr<Transform> build_rotate(const BuildContext& ctx) {
  ConfigReader r(ctx.cfg, ctx.path);
  Rotate::Options o;
  o.common = read_geometric_common(r);
  o.scale = r.get_number("scale", 1.0);
  if (const Value* v = r.get_optional("center")) {
    const std::vector<double> c = read_numbers(*v, r.path_of("center"));
    if (v->is_number()) o.center = std::array<double, 2>{c[0], c[0]};
    else if (c.size() == 2) o.center = std::array<double, 2>{c[0], c[1]};
    else throw ConfigError(r.path_of("center") + ": expected None, a number or an (x, y) pair, got " + v->brief());
  }
  o.max_rotate_angle = r.get_number("max_rotate_angle", 30.0);
  r.finish();
  return std::make_unique<Rotate>(o, ctx.path);
}

std::unique_ptr<Transform> build_translate(const BuildContext& ctx) {
  ConfigReader r(ctx.cfg, ctx.path);
  Translate::Options o;
  o.common = read_geometric_common(r);
  o.horizontal = read_horizontal(r);
  o.max_translate_offset = r.get_number("max_translate_offset", 250.0);
  o.min_size = r.get_number("min_size", 0.0);
  r.finish();
  return std::make_unique<Translate>(o, ctx.path);
}

// ColorTransform, BrightnessTransform, ContrastTransform (level, prob) and EqualizeTransform (prob).
TransformRegistry::Builder photometric_builder(PhotometricAugment::Kind kind) {
  return [kind](const BuildContext& ctx) -> std::unique_ptr<Transform> {
    ConfigReader r(ctx.cfg, ctx.path);
    PhotometricAugment::Options o;
    o.kind = kind;
    if (kind != PhotometricAugment::Kind::kEqualize) o.level = r.get_number("level");
    o.prob = r.get_number("prob", 0.5);
    r.finish();
    return std::make_unique<PhotometricAugment>(o, ctx.path);
  };
}

void register_builtin_transforms(TransformRegistry& registry) {
  registry.add("LoadImageFromFile", build_load_image);
  registry.add("LoadImageFromWebcam", build_load_webcam);
  registry.add("LoadAnnotations", build_load_annotations);
  registry.add("MultiScaleFlipAug", build_multi_scale_flip_aug);
  registry.add("Resize", build_resize);
  registry.add("RandomFlip", build_random_flip);
  registry.add("Normalize", build_normalize);
  registry.add("Pad", build_pad);
  registry.add("ImageToTensor", build_image_to_tensor);
  registry.add("DefaultFormatBundle", build_format_bundle);
  registry.add("Collect", build_collect);
  // AutoAugment and the steps mmdet 2.25 ships for its policies.
  registry.add("AutoAugment", [](const BuildContext& ctx) { return build_auto_augment(ctx.cfg, ctx.path); });
  registry.add("Shear", build_shear);
  registry.add("Rotate", build_rotate);
  registry.add("Translate", build_translate);
  registry.add("ColorTransform", photometric_builder(PhotometricAugment::Kind::kColor));
  registry.add("BrightnessTransform", photometric_builder(PhotometricAugment::Kind::kBrightness));
  registry.add("ContrastTransform", photometric_builder(PhotometricAugment::Kind::kContrast));
  registry.add("EqualizeTransform", photometric_builder(PhotometricAugment::Kind::kEqualize));
}

}  // namespace

TransformRegistry& transform_registry() {
  static TransformRegistry registry = [] {
    TransformRegistry r("transform");
    register_builtin_transforms(r);
    return r;
  }();
  return registry;
}

}  // namespace cppdet::data
