// `cppdet serve` on 127.0.0.1 (an ephemeral port): its results equal `cppdet infer`'s, bad
// input gets a 4xx and the server keeps answering, a multipart request is one batch, a full
// queue answers 503, SIGTERM under load answers every request and exits 0. Every test ends the
// server it starts.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <functional>
#include <future>
#include <thread>

#include "server_process.h"
#include "support/test_support.h"

namespace cppdet::serving {
namespace {

using nlohmann::json;
using testing::ServerProcess;

std::string demo_path() { return testing::source_dir() + "/demo/demo.jpg"; }
std::string astronaut_path() { return testing::fixture("oracle_cases/mask_tiny_r50/astronaut.png"); }

std::unique_ptr<httplib::Client> client(int port) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_connection_timeout(10);
  c->set_read_timeout(120);
  return c;
}

// `cppdet infer` on `images`, with the server's thread count and image scale: the "images" of
// its results.json.
json infer(const std::vector<std::string>& images) {
  const std::string out = testing::make_temp_dir("serve-infer") + "/results.json";
  std::string command = "CPPDET_NUM_THREADS=1 " + testing::shell_quote(testing::cppdet_exe()) + " infer " +
                        testing::shell_quote(testing::tiny_config()) + " " +
                        testing::shell_quote(testing::tiny_checkpoint());
  for (const std::string& image : images) command += " " + testing::shell_quote(image);
  const testing::CommandResult r = testing::run_command(command + " --out " + testing::shell_quote(out) +
                                                        " --cfg-options " + testing::shell_quote(testing::kSmallTestScale));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return json::parse(testing::read_text(out))["images"];
}

// What the server must answer for one image of `cppdet infer`'s results at --score-thr 0.3,
// class names aside: class by class, each class's rows in order.
json expected_predictions(const json& image, bool with_masks) {
  json out = json::array();
  const json& boxes = image["bbox_result"];
  for (size_t c = 0; c < boxes.size(); ++c) {
    for (size_t i = 0; i < boxes[c].size(); ++i) {
      const json& row = boxes[c][i];
      if (row[4].get<double>() < 0.3) continue;
      json det = {{"class_label", c}, {"bbox", {row[0], row[1], row[2], row[3]}}, {"score", row[4]}};
      if (with_masks) {
        const json& rle = image["segm_result"][c][i];
        det["segmentation"] = {{"size", rle["size"]}, {"counts", rle["counts_str"]}};
      }
      out.push_back(det);
    }
  }
  return out;
}

json without_class_names(json list) {
  for (json& det : list) det.erase("class_name");
  return list;
}

// The same detections up to float rounding (a batch runs some small convolutions through another
// ATen algorithm than a single image does: docs/serving.md).
void expect_same_detections(const json& got, const json& expected, const std::string& what) {
  ASSERT_EQ(got.size(), expected.size()) << what << "\n" << got << "\n" << expected;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i]["class_label"], expected[i]["class_label"]) << what << " detection " << i;
    for (size_t k = 0; k < 4; ++k)
      EXPECT_NEAR(got[i]["bbox"][k].get<double>(), expected[i]["bbox"][k].get<double>(), 1e-2) << what << " " << i;
    EXPECT_NEAR(got[i]["score"].get<double>(), expected[i]["score"].get<double>(), 1e-4) << what << " " << i;
  }
}

// Polls `done` every 20 ms for up to 30 s.
bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 1500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

std::string metrics_of(int port) {
  auto r = client(port)->Get("/metrics");
  return r ? r->body : "";
}

// The value of an unlabelled sample in the metrics text (-1 when absent).
double metric(const std::string& text, const std::string& name) {
  const size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

void expect_json_error(const std::string& body, const std::string& what) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(parsed.is_object() && parsed.contains("error") && parsed["error"].is_string())
      << what << ": body " << body;
}

std::string png_of(const cv::Mat& img) {
  std::vector<uchar> bytes;
  cv::imencode(".png", img, bytes);
  return std::string(bytes.begin(), bytes.end());
}

TEST(Serve, PredictionsEqualInferAndEndpointsAnswer) {
  ServerProcess server;
  auto cli = client(server.port());
  const std::string jpeg = testing::read_text(demo_path());
  const std::string png = testing::read_text(astronaut_path());
  const json reference = infer({demo_path(), astronaut_path()});

  auto raw = cli->Post("/predictions/tiny", jpeg, "image/jpeg");
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->status, 200) << raw->body;
  const json got = json::parse(raw->body);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(without_class_names(got), expected_predictions(reference[0], false));

  auto masked = cli->Post("/predictions/tiny?masks=1", jpeg, "image/jpeg");
  ASSERT_TRUE(masked);
  ASSERT_EQ(masked->status, 200) << masked->body;
  EXPECT_EQ(without_class_names(json::parse(masked->body)), expected_predictions(reference[0], true));

  // Multipart form data with two images: one list per image, in the order sent.
  const httplib::MultipartFormDataItems items = {{"data", jpeg, "demo.jpg", "image/jpeg"},
                                                 {"astronaut", png, "astronaut.png", "image/png"}};
  auto multi = cli->Post("/predictions/tiny", items);
  ASSERT_TRUE(multi);
  ASSERT_EQ(multi->status, 200) << multi->body;
  const json lists = json::parse(multi->body);
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0], got);
  EXPECT_EQ(without_class_names(lists[1]), expected_predictions(reference[1], false));
  auto models = cli->Get("/models/tiny");
  ASSERT_TRUE(models && models->status == 200);
  const json described = json::parse(models->body);
  ASSERT_EQ(described[0]["classes"].size(), 80u);
  for (const json& det : lists[1])
    EXPECT_EQ(det["class_name"], described[0]["classes"][det["class_label"].get<size_t>()]);

  auto ping = cli->Get("/ping");
  ASSERT_TRUE(ping && ping->status == 200);
  EXPECT_EQ(json::parse(ping->body), json({{"status", "Healthy"}}));
  auto list = cli->Get("/models");
  ASSERT_TRUE(list && list->status == 200);
  EXPECT_EQ(json::parse(list->body),
            json({{"models", {{{"modelName", "tiny"}, {"modelUrl", testing::tiny_checkpoint()}}}}}));
  EXPECT_TRUE(eventually([&] {
    return metrics_of(server.port()).find("cppdet_requests_total{endpoint=\"predictions\",code=\"200\"} 3") !=
           std::string::npos;
  })) << metrics_of(server.port());
  EXPECT_TRUE(eventually([&] { return server.log().find("\"POST /predictions/tiny\" 200 ") != std::string::npos; }))
      << server.log();
  EXPECT_EQ(server.terminate(std::chrono::seconds(30)), 0) << server.log();
}

TEST(Serve, BadInputGets4xxAndTheServerKeepsAnswering) {
  ServerProcess server({"--max-body-mb", "1", "--max-images", "2"});
  const int port = server.port();
  auto cli = client(port);
  const std::string jpeg = testing::read_text(demo_path());
  std::string bomb = png_of(cv::Mat(16, 16, CV_8UC3, cv::Scalar(0, 0, 0)));
  for (size_t at : {18u, 22u}) {  // IHDR width and height: 20000 (0x4E20)
    bomb[at] = '\x4E';
    bomb[at + 1] = '\x20';
  }
  struct Case {
    std::string what;
    std::function<std::pair<int, std::string>()> send;
    int status;
  };
  auto post = [&](const std::string& path, const std::string& body) {
    auto r = cli->Post(path, body, "application/octet-stream");
    return r ? std::make_pair(r->status, r->body) : std::make_pair(0, std::string());
  };
  auto raw = [&](const std::string& request, bool close_after_send = false) {
    const testing::RawResponse r = testing::raw_exchange(port, request, close_after_send);
    return std::make_pair(r.status, r.body);
  };
  const std::string head = "POST /predictions/tiny HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  std::string chunked = head + "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 24; ++i) chunked += "10000\r\n" + std::string(0x10000, 'x') + "\r\n";  // 1.5 MiB
  chunked += "0\r\n\r\n";
  const std::vector<Case> cases = {
      {"empty body", [&] { return post("/predictions/tiny", ""); }, 400},
      {"not an image", [&] { return post("/predictions/tiny", "hello, world"); }, 415},
      {"truncated JPEG", [&] { return post("/predictions/tiny", jpeg.substr(0, jpeg.size() * 6 / 10)); }, 400},
      {"1x1 image", [&] { return post("/predictions/tiny", png_of(cv::Mat(1, 1, CV_8UC3, cv::Scalar(0, 0, 0)))); }, 400},
      {"20000x20000 image", [&] { return post("/predictions/tiny", bomb); }, 413},
      {"huge declared Content-Length",
       [&] { return raw(head + "Content-Length: 100000000000\r\n\r\n" + std::string(1000, 'x')); }, 413},
      {"chunked body over --max-body-mb", [&] { return raw(chunked); }, 413},
      {"no Content-Length", [&] { return raw(head + "\r\n"); }, 411},
      {"body shorter than its Content-Length", [&] { return raw(head + "Content-Length: 5000\r\n\r\nabc", true); }, 400},
      {"garbage request line", [&] { return raw("BLAH\r\n\r\n"); }, 400},
      {"wrong method on /predictions",
       [&] {
         auto r = cli->Get("/predictions/tiny");
         EXPECT_TRUE(r && r->get_header_value("Allow") == "POST");
         return std::make_pair(r ? r->status : 0, r ? r->body : "");
       },
       405},
      {"wrong method on /ping",
       [&] {
         auto r = cli->Delete("/ping");
         return std::make_pair(r ? r->status : 0, r ? r->body : "");
       },
       405},
      {"PUT with a body", [&] { return raw("PUT /predictions/tiny HTTP/1.1\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc"); }, 405},
      {"unknown model", [&] { return post("/predictions/nope", jpeg); }, 404},
      {"unknown path",
       [&] {
         auto r = cli->Get("/nope");
         return std::make_pair(r ? r->status : 0, r ? r->body : "");
       },
       404},
      {"too many images",
       [&] {
         auto r = cli->Post("/predictions/tiny", httplib::MultipartFormDataItems{
                                                     {"a", jpeg, "a.jpg", ""}, {"b", jpeg, "b.jpg", ""}, {"c", jpeg, "c.jpg", ""}});
         return std::make_pair(r ? r->status : 0, r ? r->body : "");
       },
       413},
      {"a multipart part that is not an image",
       [&] {
         auto r = cli->Post("/predictions/tiny",
                            httplib::MultipartFormDataItems{{"good", jpeg, "a.jpg", ""}, {"bad", "text", "b.txt", ""}});
         EXPECT_TRUE(r && r->body.find("image 'bad'") != std::string::npos) << (r ? r->body : "");
         return std::make_pair(r ? r->status : 0, r ? r->body : "");
       },
       415},
  };
  for (const Case& c : cases) {
    const auto [status, body] = c.send();
    EXPECT_EQ(status, c.status) << c.what << ": " << body;
    expect_json_error(body, c.what);
    auto ping = cli->Get("/ping");
    ASSERT_TRUE(ping && ping->status == 200) << "after " << c.what << "\n" << server.log();
  }
  auto good = cli->Post("/predictions/tiny", jpeg, "image/jpeg");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200) << good->body;
  EXPECT_EQ(server.terminate(std::chrono::seconds(30)), 0) << server.log();
}

TEST(Serve, AMultipartRequestIsOneBatchWithTheSingleImageDetections) {
  // Four 640x427 images: demo.jpg and three made from it.
  const cv::Mat demo = cv::imread(demo_path(), cv::IMREAD_COLOR);
  cv::Mat flipped, blurred, darker;
  cv::flip(demo, flipped, 1);
  cv::GaussianBlur(demo, blurred, cv::Size(5, 5), 2.0);
  demo.convertTo(darker, -1, 0.7, 10);
  const std::string dir = testing::make_temp_dir("serve-batch");
  std::vector<std::string> paths;
  httplib::MultipartFormDataItems items;
  int i = 0;
  for (const cv::Mat& m : {demo, flipped, blurred, darker}) {
    paths.push_back(dir + "/image" + std::to_string(i) + ".png");
    cv::imwrite(paths.back(), m);
    items.push_back({"image" + std::to_string(i++), testing::read_text(paths.back()), paths.back(), "image/png"});
  }
  ServerProcess server({"--max-batch", "4", "--max-delay-ms", "1000", "--max-images", "4"});
  auto r = client(server.port())->Post("/predictions/tiny", items);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json lists = json::parse(r->body);
  const json reference = infer(paths);
  ASSERT_EQ(lists.size(), 4u);
  for (size_t k = 0; k < 4; ++k) expect_same_detections(lists[k], expected_predictions(reference[k], false), paths[k]);
  const std::string metrics = metrics_of(server.port());
  EXPECT_EQ(metric(metrics, "cppdet_inference_batches_total"), 1) << metrics;
  EXPECT_EQ(metric(metrics, "cppdet_inference_images_total"), 4) << metrics;
  EXPECT_EQ(server.terminate(std::chrono::seconds(30)), 0) << server.log();
}

TEST(Serve, AFullQueueAnswers503WithRetryAfter) {
  // Full-scale images: a forward pass long enough for the eight requests to find it busy.
  ServerProcess server({"--queue-size", "1"}, /*small_scale=*/false);
  const std::string jpeg = testing::read_text(demo_path());
  std::vector<std::future<std::pair<int, std::string>>> answers;
  for (int i = 0; i < 8; ++i) {
    answers.push_back(std::async(std::launch::async, [&] {
      auto r = client(server.port())->Post("/predictions/tiny", jpeg, "image/jpeg");
      if (!r) return std::make_pair(0, std::string());
      if (r->status == 503) {
        EXPECT_EQ(r->get_header_value("Retry-After"), "1");
        expect_json_error(r->body, "503");
      }
      return std::make_pair(r->status, r->body);
    }));
  }
  int ok = 0, busy = 0;
  for (auto& a : answers) {
    const int status = a.get().first;
    ok += status == 200;
    busy += status == 503;
  }
  EXPECT_EQ(ok + busy, 8);
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1);  // one image in a worker and one queued at most: most of the eight are turned away
  auto again = client(server.port())->Post("/predictions/tiny", jpeg, "image/jpeg");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(server.terminate(std::chrono::seconds(30)), 0) << server.log();
}

TEST(Serve, SigtermUnderLoadAnswersEveryRequestAndExitsZero) {
  // Four requests of two full-scale images each: eight forward passes queued behind one worker.
  ServerProcess server({"--queue-size", "8"}, /*small_scale=*/false);
  const int port = server.port();
  const std::string jpeg = testing::read_text(demo_path());
  const httplib::MultipartFormDataItems two = {{"a", jpeg, "a.jpg", "image/jpeg"}, {"b", jpeg, "b.jpg", "image/jpeg"}};
  std::vector<std::future<std::pair<int, std::string>>> answers;
  for (int i = 0; i < 4; ++i) {
    answers.push_back(std::async(std::launch::async, [&] {
      auto r = client(port)->Post("/predictions/tiny", two);
      return r ? std::make_pair(r->status, r->body) : std::make_pair(0, std::string());
    }));
  }
  // All eight images are in: queued, in the worker or done.
  ASSERT_TRUE(eventually([&] {
    const std::string m = metrics_of(port);
    return metric(m, "cppdet_queue_length") + metric(m, "cppdet_images_running") +
               metric(m, "cppdet_inference_images_total") >=
           8;
  })) << metrics_of(port);
  EXPECT_EQ(server.terminate(std::chrono::seconds(90)), 0) << server.log();
  std::string first;
  for (auto& a : answers) {
    const auto [status, body] = a.get();
    EXPECT_EQ(status, 200) << body;
    if (first.empty()) first = body;
    EXPECT_EQ(body, first);  // the same images: the same detections
  }
  EXPECT_NE(server.log().find("stopped"), std::string::npos) << server.log();
  EXPECT_EQ(testing::raw_exchange(port, "GET /ping HTTP/1.1\r\n\r\n").status, 0);  // nobody listens any more
}

}  // namespace
}  // namespace cppdet::serving
