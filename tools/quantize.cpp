// `cppdet quantize CONFIG CHECKPOINT --calib-images DIR --out model.int8.pth [--max-images N]
// [--cfg-options ...]`: post-training static int8 quantization (apis/quantize.h). Runs the fp32
// model on the calibration images, records the activation ranges and writes the checkpoint with
// its int8 calibration, for `cppdet infer / test / benchmark / demo --precision int8`.
#include <iostream>
#include <memory>

#include "command.h"
#include "cppdet/apis/quantize.h"
#include "cppdet/core/progress_bar.h"

namespace cppdet::tools {

void register_quantize(CLI::App& app) {
  struct Options {
    apis::QuantizeOptions quantize;
    std::string calib_dir;
    int64_t max_images = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "quantize", "calibrate int8 activation scales on images and write an int8 checkpoint (--precision int8)");
  cmd->add_option("config", o->quantize.config, "config file")->required();
  cmd->add_option("checkpoint", o->quantize.checkpoint, "fp32 checkpoint file (.pth)")->required();
  cmd->add_option("--calib-images", o->calib_dir, "folder of calibration images (a few hundred like the test data)")
      ->required();
  cmd->add_option("--out", o->quantize.out, "the int8 checkpoint to write (.pth)")->required();
  cmd->add_option("--max-images", o->max_images, "use at most N images of the folder, in name order (default all)");
  add_cfg_options(*cmd, o->quantize.cfg_options);
  cmd->callback([o] {
    configure_threads();
    o->quantize.calib_images = apis::calibration_images(o->calib_dir, o->max_images);
    ProgressBar progress(o->quantize.calib_images.size());
    const apis::QuantizeSummary s = apis::quantize_detector(o->quantize, [&] { progress.update(); });
    progress.finish();
    std::cout << "calibrated " << s.points << " activation(s) on " << s.images << " image(s); wrote "
              << o->quantize.out << "\n";
  });
}

}  // namespace cppdet::tools
