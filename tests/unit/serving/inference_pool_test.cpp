// The worker pool: batches of same-size images give each image's single-image result, a bad
// image fails alone, the queue is bounded, shutdown finishes what was queued.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <atomic>

#include "cppdet/serving/inference_pool.h"
#include "support/test_support.h"

namespace cppdet::serving {
namespace {

std::string case_file(const std::string& name) { return testing::fixture("oracle_cases/mask_tiny_r50/" + name); }

apis::InferenceModel tiny_model() {
  // Test images scaled to 416x256 at most (instead of 1333x800): faster, the same code paths.
  return apis::init_detector(case_file("config.py"), case_file("checkpoint_zip.pth"), "cpu",
                             {"data.test.pipeline.1.img_scale=(416,256)"});
}

// demo.jpg and three other 640x427 images made from it, PNG-encoded.
std::vector<std::string> same_size_images() {
  const cv::Mat demo = cv::imread(testing::source_dir() + "/demo/demo.jpg", cv::IMREAD_COLOR);
  cv::Mat flipped, blurred, darker;
  cv::flip(demo, flipped, 1);
  cv::GaussianBlur(demo, blurred, cv::Size(5, 5), 2.0);
  demo.convertTo(darker, -1, 0.7, 10);
  std::vector<std::string> out;
  for (const cv::Mat& m : {demo, flipped, blurred, darker}) {
    std::vector<uchar> bytes;
    cv::imencode(".png", m, bytes);
    out.emplace_back(bytes.begin(), bytes.end());
  }
  return out;
}

UploadedImage upload(const std::string& bytes) { return {bytes, read_image_header(bytes, {})}; }

// The same detections up to float rounding: a batch runs some small convolutions through
// another ATen algorithm than a single image does (docs/serving.md, "Workers, batching").
void expect_same_detections(const DetResult& batched, const DetResult& single, const std::string& what) {
  ASSERT_EQ(batched.bboxes.size(), single.bboxes.size()) << what;
  for (size_t c = 0; c < batched.bboxes.size(); ++c) {
    ASSERT_EQ(batched.bboxes[c].sizes(), single.bboxes[c].sizes()) << what << " class " << c;
    if (batched.bboxes[c].size(0) == 0) continue;
    const torch::Tensor diff = (batched.bboxes[c] - single.bboxes[c]).abs();  // [k, 5]
    EXPECT_LE(diff.slice(1, 0, 4).max().item<float>(), 1e-2f) << what << " class " << c;
    EXPECT_LE(diff.select(1, 4).max().item<float>(), 1e-4f) << what << " class " << c;
  }
}

TEST(InferencePool, ABatchGivesEachImageItsSingleImageDetections) {
  const std::vector<std::string> images = same_size_images();
  std::vector<DetResult> singles;
  const apis::InferenceModel model = tiny_model();
  for (const std::string& bytes : images) singles.push_back(apis::inference_detector(model, decode_image(bytes)));

  std::vector<size_t> batches;
  std::mutex batches_mutex;
  PoolOptions options;
  options.max_batch = 4;
  options.max_delay = std::chrono::milliseconds(2000);
  InferencePool pool({model}, options, [&](size_t n) {
    std::lock_guard<std::mutex> lock(batches_mutex);
    batches.push_back(n);
  });
  std::vector<UploadedImage> uploads;
  for (const std::string& bytes : images) uploads.push_back(upload(bytes));
  auto futures = pool.submit(std::move(uploads));
  ASSERT_TRUE(futures);
  for (size_t i = 0; i < images.size(); ++i) {
    ImageOutcome out = (*futures)[i].get();
    ASSERT_EQ(out.status, 200) << out.error;
    expect_same_detections(out.result, singles[i], "image " + std::to_string(i));
  }
  EXPECT_EQ(batches, std::vector<size_t>{4});  // one forward pass of the four
}

TEST(InferencePool, ABadImageFailsAloneAndTheQueueIsBounded) {
  const std::vector<std::string> images = same_size_images();
  PoolOptions options;
  options.max_batch = 3;
  options.max_delay = std::chrono::milliseconds(2000);
  options.queue_capacity = 3;
  InferencePool pool({tiny_model()}, options);
  std::vector<UploadedImage> four;
  for (const std::string& bytes : images) four.push_back(upload(bytes));
  EXPECT_FALSE(pool.submit(std::move(four)));  // more than the queue holds: none is queued
  EXPECT_EQ(pool.queue_length(), 0u);
  // A complete-looking 640x427 PNG whose pixel data is corrupt, between two good images.
  std::string corrupt = images[1];
  for (size_t i = 100; i < corrupt.size() - 100; i += 7) corrupt[i] = static_cast<char>(~corrupt[i]);
  auto first = pool.submit({upload(images[0])});
  auto bad = pool.submit({upload(corrupt)});
  auto last = pool.submit({upload(images[2])});
  ASSERT_TRUE(first && bad && last);
  const ImageOutcome bad_out = (*bad)[0].get();
  EXPECT_EQ(bad_out.status, 400) << bad_out.error;
  EXPECT_EQ((*first)[0].get().status, 200);
  EXPECT_EQ((*last)[0].get().status, 200);
  pool.shutdown();
  EXPECT_FALSE(pool.submit({upload(images[0])}));  // no more work after shutdown
}

TEST(InferencePool, ShutdownFinishesEveryQueuedImage) {
  const std::vector<std::string> images = same_size_images();
  PoolOptions options;
  options.queue_capacity = 8;
  InferencePool pool({tiny_model()}, options);
  std::vector<std::future<ImageOutcome>> futures;
  for (int i = 0; i < 3; ++i) {
    auto submitted = pool.submit({upload(images[static_cast<size_t>(i)])});
    ASSERT_TRUE(submitted);
    futures.push_back(std::move(submitted->at(0)));
  }
  pool.shutdown();
  EXPECT_EQ(pool.queue_length(), 0u);
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_EQ(f.get().status, 200);
  }
}

}  // namespace
}  // namespace cppdet::serving
