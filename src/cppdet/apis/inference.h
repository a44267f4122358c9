#pragma once
// The high-level inference API (mmdet.apis): load a config and checkpoint once, then detect
// objects in image files or in-memory BGR images.
//
//   auto model = cppdet::apis::init_detector("configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py",
//                                            "faster_rcnn_r50_fpn_1x_coco.pth", "cpu");
//   cppdet::DetResult result = cppdet::apis::inference_detector(model, "demo.jpg");
//   cppdet::apis::ShowOptions show;
//   show.out_file = "result.jpg";
//   cppdet::apis::show_result(model, "demo.jpg", result, show);  // apis/show_result.h
#include <opencv2/core/mat.hpp>

#include <memory>
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/models/precision/precision.h"
#include "cppdet/structures/det_result.h"
#include "cppdet/structures/image_meta.h"

namespace cppdet::models {
class Detector;
struct DebugTrace;
}  // namespace cppdet::models
namespace cppdet::data {
class Compose;
}  // namespace cppdet::data

namespace cppdet::apis {

// A detector ready for inference: mmdet's model with its .cfg and .CLASSES.
struct InferenceModel {
  std::shared_ptr<models::Detector> detector;  // in eval mode, on `device`
  config::Value cfg;                           // the merged config it was built from
  std::vector<std::string> class_names;
  std::string device;                          // "cpu" or "cuda:N"
  std::string checkpoint;                      // path loaded ("" for random weights)
  // What the CPU layers run in: the precision asked for, or fp32 where bf16 was asked for on a
  // CPU without native bf16.
  models::Precision precision = models::Precision::kFp32;
  // data.test.pipeline for files, and the same with LoadImageFromWebcam first for arrays.
  std::shared_ptr<data::Compose> file_pipeline;
  std::shared_ptr<data::Compose> array_pipeline;
};

// Loads the config's custom_imports plugins (apis/plugins.h; the path form also looks for
// them in the config file's folder), builds cfg.model (the backbone's pretrained init
// dropped), loads `checkpoint` (mmcv's non-strict loading: unexpected keys are reported on
// stderr; tensors whose shape differs from the model or model weights the checkpoint lacks
// mean the checkpoint does not fit the config: UserError), takes class names from the checkpoint's meta.CLASSES, else from the
// config's test dataset, else COCO, and moves the model to `device` ("cpu", "cuda", "cuda:N";
// CUDA in a CPU-only build or without a GPU -> UserError). An empty `checkpoint` keeps random
// weights. On "cpu" the model's layers are then prepared for `precision`
// (models/precision/inference_precision.h, docs/inference.md "Precision"):
//   fp32: the backbone's MKL-DNN path (the environment variable CPPDET_MKLDNN=0 turns it off, as
//         does models::set_mkldnn_inference(*model.detector, false));
//   bf16: convolutions and linears in bfloat16 through oneDNN; on a CPU without AVX512-BF16 /
//         AMX a warning, and fp32;
//   int8: needs a checkpoint made by `cppdet quantize` (apis/quantize.h), whose int8_calibration.*
//         tensors hold the activation scales (UserError otherwise).
// bf16 / int8 on CUDA, or for a detector without a bf16 / int8 path (one-stage detectors,
// custom necks or heads): UserError naming what is unsupported.
InferenceModel init_detector(const std::string& config_path, const std::string& checkpoint = "",
                             const std::string& device = "cpu", const std::vector<std::string>& cfg_options = {},
                             models::Precision precision = models::Precision::kFp32);
InferenceModel init_detector(const config::Value& cfg, const std::string& checkpoint = "",
                             const std::string& device = "cpu", models::Precision precision = models::Precision::kFp32);
// A string literal or argv entry is a config path.
inline InferenceModel init_detector(const char* config_path, const std::string& checkpoint = "",
                                    const std::string& device = "cpu", const std::vector<std::string>& cfg_options = {},
                                    models::Precision precision = models::Precision::kFp32) {
  return init_detector(std::string(config_path), checkpoint, device, cfg_options, precision);
}

// One image file / one BGR uint8 image -> its detections in original-image pixels.
DetResult inference_detector(const InferenceModel& model, const std::string& image_path);
DetResult inference_detector(const InferenceModel& model, const cv::Mat& bgr_image);
// A batch (one forward pass, images zero-padded to the largest): one result per image.
std::vector<DetResult> inference_detector(const InferenceModel& model, const std::vector<std::string>& image_paths);
std::vector<DetResult> inference_detector(const InferenceModel& model, const std::vector<cv::Mat>& bgr_images);

// The same as one batch, with each image's pipeline metadata (ori/img/pad shape, scale
// factor) and, when `trace` is given, the model's intermediate tensors.
struct BatchInference {
  std::vector<ImageMeta> metas;
  std::vector<DetResult> results;
};
BatchInference inference_batch(const InferenceModel& model, const std::vector<std::string>& image_paths,
                               models::DebugTrace* trace = nullptr);
BatchInference inference_batch(const InferenceModel& model, const std::vector<cv::Mat>& bgr_images,
                               models::DebugTrace* trace = nullptr);

}  // namespace cppdet::apis
