// `cppdet demo image|video|webcam`: mmdet's demo/image_demo.py, video_demo.py and
// webcam_demo.py — detect, draw (boxes, class|score labels, translucent masks), write and/or
// show.
#include <opencv2/videoio.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "command.h"
#include "cppdet/apis/inference.h"
#include "cppdet/apis/show_result.h"
#include "cppdet/core/error.h"
#include "cppdet/core/warnings.h"
#include "cppdet/core/progress_bar.h"
#include "cppdet/data/transforms/loading.h"
#include "cppdet/visualization/image_output.h"

namespace cppdet::tools {
namespace {

struct CommonOptions {
  std::string config, checkpoint, device = "cpu", precision = "fp32";
  std::vector<std::string> cfg_options;
  double score_thr = 0.3;
};

void add_common(CLI::App& cmd, CommonOptions& o) {
  cmd.add_option("config", o.config, "config file")->required();
  cmd.add_option("checkpoint", o.checkpoint, "checkpoint file (.pth)")->required();
  cmd.add_option("--device", o.device, "cpu, cuda or cuda:N (default cpu)");
  cmd.add_option("--score-thr", o.score_thr, "draw detections with a higher score (default 0.3)");
  add_precision_option(cmd, o.precision);
  add_cfg_options(cmd, o.cfg_options);
}

apis::InferenceModel load_model(const CommonOptions& o) {
  configure_threads();
  return apis::init_detector(o.config, o.checkpoint, o.device, o.cfg_options, models::parse_precision(o.precision));
}

// One line per drawn detection: "class score x1 y1 x2 y2".
void print_detections(const apis::InferenceModel& model, const DetResult& result, double score_thr) {
  for (size_t c = 0; c < result.bboxes.size(); ++c) {
    const torch::Tensor b = result.bboxes[c].to(torch::kFloat32).contiguous();
    for (int64_t i = 0; i < b.size(0); ++i) {
      const float* r = b[i].data_ptr<float>();
      if (!(r[4] > score_thr)) continue;
      std::printf("%s %.3f %.1f %.1f %.1f %.1f\n", c < model.class_names.size() ? model.class_names[c].c_str() : "?",
                  r[4], r[0], r[1], r[2], r[3]);
    }
  }
}

// Opens a video and reads its first frame with the decoders' own stderr chatter (FFmpeg,
// GStreamer) silenced: a bad file gets cppdet's one-line error instead.
bool open_video_quietly(cv::VideoCapture& reader, const std::string& path, cv::Mat& first_frame) {
  std::fflush(stderr);
  const int saved = ::dup(STDERR_FILENO);
  const int null_fd = ::open("/dev/null", O_WRONLY);
  if (saved >= 0 && null_fd >= 0) ::dup2(null_fd, STDERR_FILENO);
  const bool ok = reader.open(path) && reader.read(first_frame) && !first_frame.empty();
  std::fflush(stderr);
  if (saved >= 0) {
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
  }
  if (null_fd >= 0) ::close(null_fd);
  return ok;
}

void register_image(CLI::App& demo) {
  struct Options : CommonOptions {
    std::string image, out_file;
    bool show = false;
    double scale = 1.0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = demo.add_subcommand("image", "detect objects in one image");
  cmd->add_option("image", o->image, "image file")->required();
  add_common(*cmd, *o);
  cmd->add_option("--out-file", o->out_file, "write the drawn image here");
  cmd->add_flag("--show", o->show, "show the drawn image in a window (needs a display)");
  cmd->add_option("--scale", o->scale, "draw on the image resized by this factor, e.g. 3 for small images (default 1)")
      ->check(CLI::Range(0.1, 16.0));
  cmd->callback([o] {
    const cv::Mat img = data::read_image_bgr(o->image);  // fail on a bad image before loading the model
    apis::InferenceModel model = load_model(*o);
    const DetResult result = apis::inference_detector(model, img);
    print_detections(model, result, o->score_thr);
    apis::ShowOptions show;
    show.draw.score_thr = o->score_thr;
    show.draw.scale = o->scale;
    show.out_file = o->out_file;
    show.show = o->show;
    apis::show_result(model, img, result, show);
    if (!o->out_file.empty()) std::cerr << "wrote " << o->out_file << "\n";
  });
}

void register_video(CLI::App& demo) {
  struct Options : CommonOptions {
    std::string video, out;
    bool show = false;
    int wait_time = 1;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = demo.add_subcommand("video", "detect objects in every frame of a video");
  cmd->add_option("video", o->video, "video file")->required();
  add_common(*cmd, *o);
  cmd->add_option("--out", o->out, "write the annotated video here (mp4v, source size and fps)");
  cmd->add_flag("--show", o->show, "show each frame in a window (needs a display)");
  cmd->add_option("--wait-time", o->wait_time, "ms each shown frame waits (default 1)");
  cmd->callback([o] {
    if (o->out.empty() && !o->show) throw UserError("demo video: specify --out and/or --show");
    if (!std::filesystem::is_regular_file(o->video)) throw FileFormatError("video file not found: " + o->video);
    cv::VideoCapture reader;
    cv::Mat frame;
    if (!open_video_quietly(reader, o->video, frame))
      throw FileFormatError("cannot read video (unsupported format or corrupt): " + o->video);
    const double fps = reader.get(cv::CAP_PROP_FPS);
    const int64_t frames = static_cast<int64_t>(reader.get(cv::CAP_PROP_FRAME_COUNT));
    apis::InferenceModel model = load_model(*o);
    cv::VideoWriter writer;
    if (!o->out.empty()) {
      const std::filesystem::path parent = std::filesystem::path(o->out).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent);
      writer.open(o->out, cv::VideoWriter::fourcc('m', 'p', '4', 'v'), fps > 0 ? fps : 30.0, frame.size());
      if (!writer.isOpened()) throw FileFormatError("cannot write video: " + o->out);
    }
    const bool show = o->show && visualization::display_available();
    if (o->show && !show) warn("--show ignored: no display (DISPLAY is not set)");
    apis::ShowOptions draw;
    draw.draw.score_thr = o->score_thr;
    ProgressBar progress(frames > 0 ? static_cast<size_t>(frames) : 0);
    int64_t done = 0;
    do {
      const DetResult result = apis::inference_detector(model, frame);
      const cv::Mat drawn = apis::show_result(model, frame, result, draw);
      if (writer.isOpened()) writer.write(drawn);
      ++done;
      progress.update();
      if (show) {
        const int key = visualization::show_image("video", drawn, o->wait_time);
        if (key == 27 || key == 'q' || key == 'Q') break;
      }
    } while (reader.read(frame) && !frame.empty());
    progress.finish();
    writer.release();
    if (!o->out.empty()) std::cerr << "wrote " << done << " frame(s) to " << o->out << "\n";
  });
}

void register_webcam(CLI::App& demo) {
  struct Options : CommonOptions {
    int camera_id = 0;
  };
  auto o = std::make_shared<Options>();
  o->score_thr = 0.5;  // mmdet's webcam_demo default
  CLI::App* cmd = demo.add_subcommand("webcam", "detect objects in a live camera stream (Esc/q quits)");
  add_common(*cmd, *o);
  cmd->add_option("--camera-id", o->camera_id, "camera device index (default 0)");
  cmd->callback([o] {
    if (!visualization::display_available()) throw UserError("demo webcam needs a display (DISPLAY is not set)");
    cv::VideoCapture camera(o->camera_id);
    if (!camera.isOpened()) throw UserError("cannot open camera " + std::to_string(o->camera_id));
    apis::InferenceModel model = load_model(*o);
    apis::ShowOptions draw;
    draw.draw.score_thr = o->score_thr;
    cv::Mat frame;
    while (camera.read(frame) && !frame.empty()) {
      const cv::Mat drawn = apis::show_result(model, frame, apis::inference_detector(model, frame), draw);
      const int key = visualization::show_image("webcam", drawn, 1);
      if (key == 27 || key == 'q' || key == 'Q') break;
    }
  });
}

}  // namespace

void register_demo(CLI::App& app) {
  CLI::App* demo = app.add_subcommand("demo", "detection demos: image, video, webcam");
  demo->require_subcommand(1);
  register_image(*demo);
  register_video(*demo);
  register_webcam(*demo);
}

}  // namespace cppdet::tools
