// `cppdet browse-dataset CONFIG [--output-dir DIR] [--not-show] [--show-interval S]
// [--skip-type T ...] [--cfg-options ...]`: mmdet's tools/misc/browse_dataset.py. Builds
// data.train with the pipeline steps named by --skip-type removed (default: DefaultFormatBundle,
// Normalize, Collect, so the image stays a BGR uint8 picture), runs every training sample
// through it and draws the ground truth (boxes, class names, masks) on the transformed image:
// written to DIR/<image file name> and, when a display is available and --not-show is absent,
// shown for S seconds.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include "command.h"
#include "cppdet/core/error.h"
#include "cppdet/core/progress_bar.h"
#include "cppdet/data/datasets/build_dataset.h"
#include "cppdet/visualization/draw_detections.h"
#include "cppdet/visualization/image_output.h"
#include "train_common.h"

namespace cppdet::tools {
namespace {

namespace fs = std::filesystem;

struct BrowseOptions {
  std::string config, output_dir;
  bool not_show = false;
  double show_interval = 2.0;
  std::vector<std::string> skip_type{"DefaultFormatBundle", "Normalize", "Collect"};
  std::vector<std::string> cfg_options;
};

// Removes the steps whose type is in `skip` from `node`'s pipeline.
void skip_pipeline_steps(config::Value& node, const std::vector<std::string>& skip, const std::string& path) {
  if (!node.is_dict()) throw ConfigError(path + ": expected a dataset dict, got " + node.type_name());
  config::Value* pipeline = node.as_dict().find("pipeline");
  if (!pipeline || !pipeline->is_sequence()) throw ConfigError(path + ".pipeline: expected a list of transforms");
  config::List kept;
  for (const config::Value& step : pipeline->as_sequence()) {
    const config::Value* type = step.is_dict() ? step.as_dict().find("type") : nullptr;
    const bool skipped = type && type->is_string() && std::find(skip.begin(), skip.end(), type->as_string()) != skip.end();
    if (!skipped) kept.push_back(step);
  }
  *pipeline = config::Value::list(std::move(kept));
}

// mmdet's retrieve_data_cfg: follow wrappers' `dataset` (RepeatDataset, ...) down to the
// dataset(s) that own the pipeline; a list, or a ConcatDataset's `datasets`, has one each.
void strip_train_pipeline(config::Value& node, const std::vector<std::string>& skip, const std::string& path) {
  if (node.is_sequence()) {
    for (size_t i = 0; i < node.as_sequence().size(); ++i)
      strip_train_pipeline(node.as_sequence()[i], skip, path + "[" + std::to_string(i) + "]");
    return;
  }
  if (node.is_dict()) {
    if (config::Value* inner = node.as_dict().find("dataset")) return strip_train_pipeline(*inner, skip, path + ".dataset");
    if (config::Value* list = node.as_dict().find("datasets")) return strip_train_pipeline(*list, skip, path + ".datasets");
  }
  skip_pipeline_steps(node, skip, path);
}

// The sample's ground truth as a DetResult (one score-less entry per class) for drawing.
DetResult ground_truth_result(const data::Sample& s, size_t num_classes) {
  DetResult r;
  const bool has_boxes = s.gt_bboxes.defined() && s.gt_bboxes.numel() > 0;
  const torch::Tensor boxes = has_boxes ? s.gt_bboxes.to(torch::kFloat32) : torch::zeros({0, 4});
  const torch::Tensor labels = has_boxes ? s.gt_labels.to(torch::kInt64) : torch::zeros({0}, torch::kInt64);
  const bool has_masks = s.gt_masks.defined() && s.gt_masks.dim() == 3 && s.gt_masks.size(0) == boxes.size(0);
  for (size_t c = 0; c < num_classes; ++c) {
    const torch::Tensor idx = (labels == static_cast<int64_t>(c)).nonzero().flatten();
    r.bboxes.push_back(torch::cat({boxes.index_select(0, idx), torch::ones({idx.size(0), 1})}, 1));
    if (has_masks) r.masks.push_back(s.gt_masks.index_select(0, idx).to(torch::kBool));
  }
  return r;
}

void browse(const BrowseOptions& o) {
  const bool show = !o.not_show && visualization::display_available();
  if (!show && o.output_dir.empty())
    throw UserError(o.not_show ? "nothing to do: --not-show without --output-dir"
                               : "no display to show the images on (DISPLAY is not set); give --output-dir");
  if (!o.not_show && !show) std::cerr << "no display: writing the images only (as with --not-show)\n";
  config::Value train = data_split(load_config_and_plugins(o.config, o.cfg_options), "train");
  strip_train_pipeline(train, o.skip_type, "data.train");
  const data::TrainDataset dataset = data::build_train_dataset(train, "data.train");
  visualization::DrawOptions draw;
  draw.score_thr = 0;
  draw.show_scores = false;
  draw.bbox_color.reset();  // the class palette, as mmdet's dataset.PALETTE
  draw.mask_color.reset();
  draw.text_color = visualization::Rgb{200, 200, 200};

  ProgressBar progress(dataset.dataset->size());
  for (size_t i = 0; i < dataset.dataset->size(); ++i) {
    const data::Sample s = dataset.dataset->get(i, /*rng_seed=*/i);
    if (s.img.empty() || s.img.type() != CV_8UC3)
      throw UserError("browse-dataset: image " + s.img_file +
                      " is not a 3-channel uint8 picture after the pipeline; skip the steps that convert it "
                      "(--skip-type, default DefaultFormatBundle Normalize Collect)");
    const cv::Mat drawn =
        visualization::draw_detections(s.img, ground_truth_result(s, dataset.classes.size()), dataset.classes, draw);
    if (!o.output_dir.empty())
      visualization::write_image((fs::path(o.output_dir) / fs::path(s.img_file).filename()).string(), drawn);
    if (show) visualization::show_image("browse-dataset", drawn, static_cast<int>(o.show_interval * 1000));
    progress.update();
  }
  progress.finish();
}

}  // namespace

void register_browse_dataset(CLI::App& app) {
  auto o = std::make_shared<BrowseOptions>();
  CLI::App* cmd = app.add_subcommand(
      "browse-dataset", "draw the training ground truth after the train pipeline (mmdet tools/misc/browse_dataset.py)");
  cmd->add_option("config", o->config, "config file")->required();
  cmd->add_option("--output-dir", o->output_dir, "write each drawn image to DIR/<image file name>");
  cmd->add_flag("--not-show", o->not_show, "do not open a window (also the case without a display)");
  cmd->add_option("--show-interval", o->show_interval, "seconds each image is shown (default 2; 0 waits for a key)");
  cmd->add_option("--skip-type", o->skip_type, "pipeline steps to leave out (default DefaultFormatBundle Normalize Collect)")
      ->expected(1, -1);
  add_cfg_options(*cmd, o->cfg_options);
  cmd->callback([o] {
    configure_threads();
    browse(*o);
  });
}

}  // namespace cppdet::tools
