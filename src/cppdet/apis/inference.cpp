#include "cppdet/apis/inference.h"

#include <torch/utils.h>

#include <cstdlib>

#include "cppdet/apis/class_names.h"
#include "cppdet/apis/device.h"
#include "cppdet/apis/plugins.h"
#include "cppdet/config/config_file.h"
#include "cppdet/core/error.h"
#include "cppdet/core/warnings.h"
#include "cppdet/data/loader/collate.h"
#include "cppdet/data/transforms/compose.h"
#include "cppdet/io/checkpoint.h"
#include "cppdet/io/state_dict.h"
#include "cppdet/models/detector.h"
#include "cppdet/models/precision/calibration.h"
#include "cppdet/models/precision/inference_precision.h"

namespace cppdet::apis {
namespace {

using config::Dict;
using config::Value;

// mmdet's init_detector edits: no pretrained weights, no train_cfg.
Value inference_model_config(const Value& cfg) {
  if (!cfg.is_dict() || !cfg.as_dict().contains("model")) throw ConfigError("model: required key is missing from the config");
  Value model = cfg.as_dict().at("model");
  if (!model.is_dict()) throw ConfigError("model: expected a dict, got " + model.type_name());
  Dict& m = model.as_dict();
  if (m.contains("pretrained")) {
    m.set("pretrained", Value());
  } else if (Value* backbone = m.find("backbone"); backbone && backbone->is_dict() && backbone->as_dict().contains("init_cfg")) {
    backbone->as_dict().set("init_cfg", Value());
  }
  if (m.contains("train_cfg")) m.set("train_cfg", Value());
  return model;
}

const Value& test_pipeline_config(const Value& cfg) {
  const Value* data = cfg.as_dict().find("data");
  const Value* test = (data && data->is_dict()) ? data->as_dict().find("test") : nullptr;
  const Value* pipeline = (test && test->is_dict()) ? test->as_dict().find("pipeline") : nullptr;
  if (!pipeline) throw ConfigError("data.test.pipeline: required to run inference but missing from the config");
  return *pipeline;
}

// The test pipeline with its loading step replaced by LoadImageFromWebcam (array inputs).
Value array_pipeline_config(const Value& pipeline) {
  Value out = pipeline;
  if (!out.is_sequence() || out.as_sequence().empty() || !out.as_sequence()[0].is_dict())
    throw ConfigError("data.test.pipeline: expected a non-empty list of transform dicts");
  out.as_sequence()[0].as_dict().set("type", Value("LoadImageFromWebcam"));
  return out;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

struct LoadedWeights {
  std::vector<std::string> classes;  // meta.CLASSES (empty when absent)
  std::shared_ptr<models::CalibrationTable> calibration;  // its int8_calibration.* tensors (empty when none)
};

// Loads the checkpoint into `detector`.
LoadedWeights load_weights(models::Detector& detector, const std::string& checkpoint, const std::string& config_name) {
  io::Checkpoint ckpt = io::read_checkpoint(checkpoint);
  LoadedWeights loaded;
  loaded.calibration =
      std::make_shared<models::CalibrationTable>(models::CalibrationTable::take_from(ckpt.state_dict, checkpoint));
  const io::LoadReport report = io::load_state_dict(detector, ckpt.state_dict, /*strict=*/false);
  if (!report.size_mismatches.empty() || !report.missing_keys.empty()) {
    std::string msg = "checkpoint " + checkpoint + " does not fit the model of " + config_name + ":";
    if (!report.size_mismatches.empty()) {
      const io::SizeMismatch& m = report.size_mismatches.front();
      msg += " " + std::to_string(report.size_mismatches.size()) + " tensor(s) of another shape (e.g. " + m.name +
             ": checkpoint " + shape_text(m.checkpoint_shape) + ", model " + shape_text(m.model_shape) + ")";
    }
    if (!report.missing_keys.empty())
      msg += std::string(report.size_mismatches.empty() ? "" : ";") + " " +
             std::to_string(report.missing_keys.size()) + " model weight(s) missing (e.g. " +
             report.missing_keys.front() + ")";
    throw UserError(msg);
  }
  if (!report.unexpected_keys.empty())
    warn(std::to_string(report.unexpected_keys.size()) + " checkpoint tensor(s) unused by the model (e.g. " +
         report.unexpected_keys.front() + ")");
  if (const Value* meta_classes = ckpt.meta.is_dict() ? ckpt.meta.as_dict().find("CLASSES") : nullptr)
    loaded.classes = class_names_of(*meta_classes);
  return loaded;
}

// CPPDET_MKLDNN=0 keeps the fp32 CPU model on its plain modules (models/precision/inference_precision.h).
bool mkldnn_inference_wanted() {
  const char* env = std::getenv("CPPDET_MKLDNN");
  return !env || std::string(env) != "0";
}

BatchInference run_batch(const InferenceModel& model, std::vector<data::Sample> inputs, data::Compose& pipeline,
                         models::DebugTrace* trace) {
  if (inputs.empty()) return {};
  std::vector<data::Sample> samples;
  for (data::Sample& input : inputs) {
    std::vector<data::Sample> out = pipeline(std::move(input));
    if (out.size() != 1)
      throw UserError("the test pipeline produced " + std::to_string(out.size()) +
                      " augmented copies of an image; test-time augmentation is not supported "
                      "(use one img_scale and flip=False in MultiScaleFlipAug)");
    samples.push_back(std::move(out[0]));
  }
  for (data::Sample& s : samples)
    if (s.inputs.scalar_type() != torch::kFloat32) s.inputs = s.inputs.to(torch::kFloat32);
  DetBatch batch = data::collate(std::move(samples));
  torch::NoGradGuard no_grad;
  torch::Tensor img = batch.img.to(torch::Device(model.device));
  BatchInference result;
  result.results = model.detector->simple_test(img, batch.metas, /*rescale=*/true, trace);
  result.metas = std::move(batch.metas);
  return result;
}

// The precision the CPU layers will run in: bf16 falls back to fp32 (with a warning) on a CPU
// without native bf16. UserError for bf16 / int8 off the CPU.
models::Precision effective_precision(models::Precision precision, const std::string& device) {
  if (precision == models::Precision::kFp32) return precision;
  const std::string name = models::precision_name(precision);
  if (device != "cpu") throw UserError("--precision " + name + " runs on the CPU only (device " + device + "); use fp32");
  if (precision == models::Precision::kBf16 && !models::cpu_has_native_bf16()) {
    warn("bf16: this CPU has no AVX512-BF16 or AMX-BF16 instructions (or ONEDNN_MAX_CPU_ISA rules them out); running fp32");
    return models::Precision::kFp32;
  }
  if (precision == models::Precision::kInt8 && !models::cpu_has_int8_dot_product())
    warn_once("int8-no-vnni", "int8: this CPU has no VNNI instructions (or ONEDNN_MAX_CPU_ISA rules them out); int8 runs, but slower");
  return precision;
}

// Prepares the CPU model's layers for `precision` (the detector has weights and is in eval mode).
void prepare_precision(InferenceModel& model, const std::shared_ptr<models::CalibrationTable>& calibration) {
  models::InferencePrecision p;
  p.mkldnn = mkldnn_inference_wanted();
  if (model.precision == models::Precision::kFp32) {
    models::set_inference_precision(*model.detector, p);
    return;
  }
  const std::string name = models::precision_name(model.precision);
  const std::string limitation = model.detector->reduced_precision_limitation();
  if (!limitation.empty()) throw UserError("--precision " + name + ": " + limitation);
  if (model.precision == models::Precision::kInt8) {
    if (!calibration || calibration->empty())
      throw UserError("--precision int8 needs a checkpoint calibrated by `cppdet quantize CONFIG CHECKPOINT "
                      "--calib-images DIR --out FILE`; " +
                      (model.checkpoint.empty() ? std::string("no checkpoint was given") : model.checkpoint + " has no int8 calibration"));
    p.mode = models::PrecisionMode::kInt8;
    p.calibration = calibration;
  } else {
    p.mode = models::PrecisionMode::kBf16;
  }
  models::set_inference_precision(*model.detector, p);
}

}  // namespace

InferenceModel init_detector(const std::string& config_path, const std::string& checkpoint, const std::string& device,
                             const std::vector<std::string>& cfg_options, models::Precision precision) {
  const std::string canonical_device = check_device(device);  // fail before any heavy work
  const Value cfg = config::load_config(config_path, cfg_options);
  load_plugins(cfg, config_path);  // names are looked up in the config's folder too
  return init_detector(cfg, checkpoint, canonical_device, precision);
}

InferenceModel init_detector(const Value& cfg, const std::string& checkpoint, const std::string& device,
                             models::Precision precision) {
  InferenceModel model;
  model.device = check_device(device);
  model.precision = effective_precision(precision, model.device);
  load_plugins(cfg);
  model.cfg = cfg;
  model.checkpoint = checkpoint;
  const Value& pipeline = test_pipeline_config(cfg);
  model.file_pipeline = data::build_compose(pipeline, "data.test.pipeline");
  model.array_pipeline = data::build_compose(array_pipeline_config(pipeline), "data.test.pipeline");
  model.detector = models::build_detector(inference_model_config(cfg), "model");
  LoadedWeights loaded;
  if (!checkpoint.empty()) loaded = load_weights(*model.detector, checkpoint, "the config");
  std::vector<std::string> classes = std::move(loaded.classes);
  if (classes.empty()) classes = config_class_names(cfg);
  if (classes.empty()) classes = coco_class_names();
  model.class_names = std::move(classes);
  model.detector->to(torch::Device(model.device));
  model.detector->eval();
  if (model.device == "cpu") prepare_precision(model, loaded.calibration);
  return model;
}

BatchInference inference_batch(const InferenceModel& model, const std::vector<std::string>& image_paths,
                               models::DebugTrace* trace) {
  std::vector<data::Sample> inputs(image_paths.size());
  for (size_t i = 0; i < image_paths.size(); ++i) inputs[i].img_file = image_paths[i];
  return run_batch(model, std::move(inputs), *model.file_pipeline, trace);
}

BatchInference inference_batch(const InferenceModel& model, const std::vector<cv::Mat>& bgr_images,
                               models::DebugTrace* trace) {
  std::vector<data::Sample> inputs(bgr_images.size());
  for (size_t i = 0; i < bgr_images.size(); ++i) {
    if (bgr_images[i].empty() || bgr_images[i].type() != CV_8UC3)
      throw UserError("inference_detector: image " + std::to_string(i) + " is not a 3-channel uint8 BGR image");
    inputs[i].img = bgr_images[i];
  }
  return run_batch(model, std::move(inputs), *model.array_pipeline, trace);
}

std::vector<DetResult> inference_detector(const InferenceModel& model, const std::vector<std::string>& image_paths) {
  return inference_batch(model, image_paths).results;
}

std::vector<DetResult> inference_detector(const InferenceModel& model, const std::vector<cv::Mat>& bgr_images) {
  return inference_batch(model, bgr_images).results;
}

DetResult inference_detector(const InferenceModel& model, const std::string& image_path) {
  return std::move(inference_batch(model, std::vector<std::string>{image_path}).results.at(0));
}

DetResult inference_detector(const InferenceModel& model, const cv::Mat& bgr_image) {
  return std::move(inference_batch(model, std::vector<cv::Mat>{bgr_image}).results.at(0));
}

}  // namespace cppdet::apis
