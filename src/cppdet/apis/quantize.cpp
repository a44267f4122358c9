#include "cppdet/apis/quantize.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>

#include "cppdet/apis/inference.h"
#include "cppdet/config/config_file.h"
#include "cppdet/core/error.h"
#include "cppdet/io/checkpoint.h"
#include "cppdet/models/detector.h"
#include "cppdet/models/precision/calibration.h"
#include "cppdet/models/precision/inference_precision.h"

namespace cppdet::apis {

std::vector<std::string> calibration_images(const std::string& dir, int64_t max_images) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw UserError("calibration image folder not found: " + dir);
  static const std::vector<std::string> kExtensions{".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"};
  std::vector<std::string> images;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (entry.is_regular_file(ec) && std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end())
      images.push_back(entry.path().string());
  }
  if (images.empty()) throw UserError("no images (.jpg .jpeg .png .bmp .tif .tiff .webp) in " + dir);
  std::sort(images.begin(), images.end());
  if (max_images > 0 && static_cast<int64_t>(images.size()) > max_images) images.resize(static_cast<size_t>(max_images));
  return images;
}

QuantizeSummary quantize_detector(const QuantizeOptions& o, const std::function<void()>& on_image) {
  if (o.calib_images.empty()) throw UserError("quantize: no calibration images");
  if (o.checkpoint.empty()) throw UserError("quantize: a checkpoint with trained weights is needed");
  InferenceModel model = init_detector(o.config, o.checkpoint, "cpu", o.cfg_options);
  const std::string limitation = model.detector->reduced_precision_limitation();
  if (!limitation.empty()) throw UserError("quantize: " + limitation);

  auto table = std::make_shared<models::CalibrationTable>();
  models::InferencePrecision calibrate;
  calibrate.mode = models::PrecisionMode::kCalibrate;
  calibrate.calibration = table;
  models::set_inference_precision(*model.detector, calibrate);
  for (const std::string& image : o.calib_images) {
    inference_detector(model, image);
    if (on_image) on_image();
  }

  io::Checkpoint source = io::read_checkpoint(o.checkpoint);
  models::CalibrationTable::take_from(source.state_dict, o.checkpoint);  // a re-quantized file: the old calibration goes
  io::CheckpointToWrite out;
  out.state_dict = std::move(source.state_dict);
  for (auto& entry : table->to_state_dict()) out.state_dict.push_back(std::move(entry));
  config::Dict meta = source.meta.is_dict() ? source.meta.as_dict() : config::Dict{};
  meta.set("config", config::Value(config::dump_python(model.cfg)));
  config::Dict info;
  info.set("images", config::Value(static_cast<int64_t>(o.calib_images.size())));
  info.set("points", config::Value(static_cast<int64_t>(table->size())));
  info.set("observer", config::Value("minmax"));
  info.set("activations", config::Value("quint8 per-tensor affine"));
  info.set("weights", config::Value("qint8 per-output-channel symmetric"));
  info.set("engine", config::Value("onednn"));
  meta.set("int8_calibration", config::Value(info));
  out.meta = config::Value(meta);
  io::write_checkpoint(o.out, out);

  QuantizeSummary summary;
  summary.images = static_cast<int64_t>(o.calib_images.size());
  summary.points = static_cast<int64_t>(table->size());
  return summary;
}

}  // namespace cppdet::apis
