// MMDetection's Quick Run ("High-level APIs for inference") in C++: detect objects in one
// image, then in every frame of a video. Built as build/examples/quick_run:
//
//   quick_run CONFIG CHECKPOINT IMAGE [VIDEO]
#include <opencv2/videoio.hpp>

#include <iostream>

#include "cppdet/apis/inference.h"
#include "cppdet/apis/show_result.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: quick_run CONFIG CHECKPOINT IMAGE [VIDEO]\n";
    return 2;
  }
  try {
    // Build the model from a config file and a checkpoint file.
    cppdet::apis::InferenceModel model = cppdet::apis::init_detector(argv[1], argv[2], "cpu");

    // Test a single image and save the visualization.
    cppdet::DetResult result = cppdet::apis::inference_detector(model, std::string(argv[3]));
    cppdet::apis::ShowOptions show;
    show.out_file = "result.jpg";
    cppdet::apis::show_result(model, std::string(argv[3]), result, show);

    // Test a video and write the annotated frames.
    if (argc > 4) {
      cv::VideoCapture video(argv[4]);
      cv::VideoWriter out("result.mp4", cv::VideoWriter::fourcc('m', 'p', '4', 'v'), video.get(cv::CAP_PROP_FPS),
                          cv::Size(static_cast<int>(video.get(cv::CAP_PROP_FRAME_WIDTH)),
                                   static_cast<int>(video.get(cv::CAP_PROP_FRAME_HEIGHT))));
      cppdet::apis::ShowOptions frame_show;  // draw only: no file, no window
      for (cv::Mat frame; video.read(frame);) {
        cppdet::DetResult frame_result = cppdet::apis::inference_detector(model, frame);
        out.write(cppdet::apis::show_result(model, frame, frame_result, frame_show));
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "quick_run: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
