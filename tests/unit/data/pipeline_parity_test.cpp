// The test pipeline of every oracle case against MMDetection's own preprocessing: the
// resized uint8 image (md5 of its bytes) and the normalized, padded input tensor statistics
// recorded in tests/fixtures/oracle_cases/<case>/outputs.json.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <cmath>
#include <fstream>

#include "cppdet/config/config_file.h"
#include "cppdet/core/atomic_file.h"
#include "cppdet/data/transforms/compose.h"
#include "cppdet/data/transforms/loading.h"
#include "cppdet/data/transforms/resize.h"
#include "support/test_support.h"

namespace cppdet::data {
namespace {

using nlohmann::json;

std::string md5_of(const cv::Mat& img) {
  const std::string dir = testing::make_temp_dir("md5");
  const std::string path = dir + "/bytes";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(img.data), static_cast<std::streamsize>(img.total() * img.elemSize()));
  }
  const testing::CommandResult r = testing::run_command("md5sum " + testing::shell_quote(path));
  return r.output.substr(0, 32);
}

class PipelineParity : public ::testing::TestWithParam<std::string> {};

TEST_P(PipelineParity, ResizedImageAndInputTensorMatchMmdet) {
  const std::string dir = testing::fixture("oracle_cases/" + GetParam());
  const json outputs = json::parse(read_file(dir + "/outputs.json"));
  const config::Value cfg = config::load_config(dir + "/config.py");
  auto pipeline = build_compose(cfg.as_dict().at("data").as_dict().at("test").as_dict().at("pipeline"),
                                "data.test.pipeline");

  for (const json& ref : outputs["images"]) {
    const std::string file = ref["file"];
    SCOPED_TRACE(file);

    // Load + Resize alone: the uint8 BGR image must be byte-identical.
    Sample resized;
    resized.img_file = dir + "/" + file;
    LoadImageFromFile({}).apply(resized);
    resized.scale = std::array<int64_t, 2>{1333, 800};
    Resize({}).apply(resized);
    const json& rref = ref["resized_uint8_bgr"];
    EXPECT_EQ(std::vector<int64_t>({resized.img.rows, resized.img.cols, 3}), rref["shape"].get<std::vector<int64_t>>());
    EXPECT_EQ(cv::sum(resized.img)[0] + cv::sum(resized.img)[1] + cv::sum(resized.img)[2], rref["sum"].get<double>());
    EXPECT_EQ(md5_of(resized.img), rref["md5"].get<std::string>());

    // The whole configured pipeline.
    Sample sample;
    sample.img_prefix = dir;
    sample.img_file = file;
    std::vector<Sample> out = (*pipeline)(std::move(sample));
    ASSERT_EQ(out.size(), 1u);
    const Sample& s = out[0];
    EXPECT_EQ(std::vector<int64_t>(s.meta.ori_shape.begin(), s.meta.ori_shape.end()), ref["ori_shape"].get<std::vector<int64_t>>());
    EXPECT_EQ(std::vector<int64_t>(s.meta.img_shape.begin(), s.meta.img_shape.end()), ref["img_shape"].get<std::vector<int64_t>>());
    EXPECT_EQ(std::vector<int64_t>(s.meta.pad_shape.begin(), s.meta.pad_shape.end()), ref["pad_shape"].get<std::vector<int64_t>>());
    for (int i = 0; i < 4; ++i) EXPECT_EQ(s.meta.scale_factor[i], static_cast<float>(ref["scale_factor"][i].get<double>()));
    EXPECT_FALSE(s.meta.flip);

    const json& t = ref["input_tensor"];
    const torch::Tensor x = s.inputs.unsqueeze(0);
    ASSERT_EQ(x.scalar_type(), torch::kFloat32);
    EXPECT_EQ(x.sizes().vec(), t["shape"].get<std::vector<int64_t>>());
    const torch::Tensor xd = x.to(torch::kFloat64);
    const double sum = xd.sum().item<double>();
    EXPECT_NEAR(sum, t["sum"].get<double>(), 1e-7 * xd.abs().sum().item<double>());
    EXPECT_NEAR(xd.abs().mean().item<double>(), t["abs_mean"].get<double>(), 1e-7);
    EXPECT_NEAR(xd.std().item<double>(), t["std"].get<double>(), 1e-5);
    EXPECT_EQ(x.min().item<float>(), static_cast<float>(t["min"].get<double>()));
    EXPECT_EQ(x.max().item<float>(), static_cast<float>(t["max"].get<double>()));
    const torch::Tensor flat = x.flatten();
    for (size_t i = 0; i < t["first"].size(); ++i)
      EXPECT_EQ(flat[static_cast<int64_t>(i)].item<float>(), static_cast<float>(t["first"][i].get<double>())) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(OracleCases, PipelineParity,
                         ::testing::Values("faster_tiny_r50", "faster_tiny_r18_caffe", "mask_tiny_r50"));

}  // namespace
}  // namespace cppdet::data
