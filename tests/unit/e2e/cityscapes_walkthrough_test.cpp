// MMDetection's "Train with customized models and standard datasets" walkthrough
// (docs/tutorials/custom_model_cityscapes.md) end to end, with the `cppdet` executable as
// installed: the build is installed into a temporary prefix, whose cppdet finds the shipped
// AugFPN plugin next to its libcppdet (no CPPDET_PLUGIN_PATH). It converts the Cityscapes-format
// sample in ../shared/data/cityscapes_mmseg_pseudo, trains
// configs/cityscapes/cascade_mask_rcnn_r50_augfpn_autoaug_10e_cityscapes.py for two iterations
// at a small scale (no load_from), tests the checkpoint with --eval bbox segm, and reads
// epoch_1.pth with Python's torch.load. Registered as the ctest Cityscapes.Walkthrough (label
// `walkthrough`); skipped without ../shared.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "support/test_support.h"

namespace cppdet::testing {
namespace {

namespace fs = std::filesystem;

const char* const kWalkthroughConfig = "configs/cityscapes/cascade_mask_rcnn_r50_augfpn_autoaug_10e_cityscapes.py";
const char* const kWalkthroughWorkDir = "work_dirs/cascade_mask_rcnn_r50_augfpn_autoaug_10e_cityscapes";

std::string walkthrough_env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The sample has only a val split: it serves as train, val and test; the small image (256x128)
// is used at its size; an untrained model keeps at most 20 detections per image.
std::string walkthrough_options() {
  const std::string ann = "data/cityscapes/annotations/instancesonly_filtered_gtFine_val.json";
  const std::string img = "data/cityscapes/leftImg8bit/val/";
  std::string o = "load_from=None runner.max_epochs=1 data.train.times=2 log_config.interval=1 "
                  "data.workers_per_gpu=0 model.test_cfg.rcnn.max_per_img=20 ";
  for (const std::string& split : {std::string("data.train.dataset."), std::string("data.val."),
                                   std::string("data.test.")})
    o += shell_quote(split + "ann_file=" + ann) + " " + shell_quote(split + "img_prefix=" + img) + " ";
  return o + shell_quote("data.train.dataset.pipeline.3.img_scale=(256,128)") + " " +
         shell_quote("data.val.pipeline.1.img_scale=(256,128)") + " " +
         shell_quote("data.test.pipeline.1.img_scale=(256,128)");
}

TEST(CityscapesWalkthrough, DISABLED_ConvertTrainTestInstalled) {
  const std::string shared = shared_dir();
  const std::string sample = shared + "/data/cityscapes_mmseg_pseudo";
  if (shared.empty() || !fs::exists(sample + "/leftImg8bit/val")) GTEST_SKIP() << "../shared/data/cityscapes_mmseg_pseudo not present";
  const std::string cmake = walkthrough_env("CPPDET_CMAKE"), build = walkthrough_env("CPPDET_BINARY_DIR");
  ASSERT_FALSE(cmake.empty() || build.empty()) << "CPPDET_CMAKE and CPPDET_BINARY_DIR are set by CTest";

  // 1. Install cppdet as a user would; its cppdet looks for plugins next to its libcppdet.
  const std::string root = make_temp_dir("cityscapes_walkthrough");
  const std::string prefix = root + "/prefix";
  const CommandResult install = run_command(shell_quote(cmake) + " --install " + shell_quote(build) +
                                            " --prefix " + shell_quote(prefix));
  ASSERT_EQ(install.exit_code, 0) << install.output;
  const std::string cppdet = prefix + "/bin/cppdet";
  ASSERT_TRUE(fs::is_regular_file(cppdet));
  auto installed = [&](const std::string& args) {
    return run_command("cd " + shell_quote(root) + " && env -u CPPDET_PLUGIN_PATH " + shell_quote(cppdet) + " " + args);
  };

  // 2. The dataset layout of the walkthrough, data/cityscapes/{leftImg8bit,gtFine}, converted.
  fs::create_directories(root + "/data/cityscapes");
  for (const char* part : {"leftImg8bit", "gtFine"}) fs::create_directory_symlink(sample + "/" + part, root + "/data/cityscapes/" + part);
  const CommandResult convert = installed("convert cityscapes data/cityscapes --out-dir data/cityscapes/annotations");
  ASSERT_EQ(convert.exit_code, 0) << convert.output;
  ASSERT_TRUE(fs::is_regular_file(root + "/data/cityscapes/annotations/instancesonly_filtered_gtFine_val.json"));

  // 3. Train: AugFPN comes from the plugin named by custom_imports; AutoAugment in the pipeline.
  const std::string config = shell_quote(source_dir() + "/" + kWalkthroughConfig);
  const CommandResult train = installed("train " + config + " --seed 0 --cfg-options " + walkthrough_options());
  ASSERT_EQ(train.exit_code, 0) << train.output;
  const std::string work_dir = root + "/" + kWalkthroughWorkDir;
  ASSERT_TRUE(fs::is_regular_file(work_dir + "/epoch_1.pth")) << train.output;
  EXPECT_NE(train.output.find("Epoch [1][2/2]"), std::string::npos) << train.output;
  EXPECT_NE(train.output.find("bbox_mAP"), std::string::npos) << train.output;  // the EvalHook on val

  // Every stage's losses, logged per iteration and finite.
  const std::vector<std::string> logs = json_logs(work_dir);
  ASSERT_EQ(logs.size(), 1u);
  int train_records = 0;
  for (const nlohmann::json& r : log_records(logs[0])) {
    if (r.value("mode", "") != "train") continue;
    ++train_records;
    for (const char* key : {"loss_rpn_cls", "loss_rpn_bbox", "s0.loss_cls", "s0.acc", "s0.loss_bbox", "s0.loss_mask",
                            "s1.loss_cls", "s1.loss_bbox", "s1.loss_mask", "s2.loss_cls", "s2.loss_bbox",
                            "s2.loss_mask", "loss"}) {
      ASSERT_TRUE(r.contains(key)) << key << " missing in " << r.dump();
      EXPECT_TRUE(std::isfinite(r[key].get<double>())) << key << " in " << r.dump();
    }
  }
  EXPECT_EQ(train_records, 2);

  // 4. Test the checkpoint: both metric lines.
  const CommandResult test =
      installed("test " + config + " " + shell_quote(work_dir + "/epoch_1.pth") + " --eval bbox segm --cfg-options " +
                walkthrough_options());
  ASSERT_EQ(test.exit_code, 0) << test.output;
  EXPECT_NE(test.output.find("OrderedDict([('bbox_mAP', "), std::string::npos) << test.output;
  EXPECT_NE(test.output.find("('segm_mAP', "), std::string::npos) << test.output;

  // 5. PyTorch (Debian's python3-torch, or CPPDET_PYTHON) reads the checkpoint, and it holds the
  // AugFPN neck's own parameters.
  const std::string python = walkthrough_env("CPPDET_PYTHON").empty() ? "/usr/bin/python3" : walkthrough_env("CPPDET_PYTHON");
  const CommandResult load = run_command(
      shell_quote(python) + " -c " +
      shell_quote("import sys, torch; c = torch.load(sys.argv[1], map_location='cpu'); "
                  "print(' '.join(k for k in c['state_dict'] if k.startswith('neck.')))") +
      " " + shell_quote(work_dir + "/epoch_1.pth"));
  ASSERT_EQ(load.exit_code, 0) << load.output;
  for (const char* key : {"neck.lateral_convs.0.conv.weight", "neck.fpn_convs.0.conv.weight", "neck.rfa_fusion.0.weight"})
    EXPECT_NE(load.output.find(key), std::string::npos) << key << " not in: " << load.output;
  fs::remove_all(root);
}

}  // namespace
}  // namespace cppdet::testing
