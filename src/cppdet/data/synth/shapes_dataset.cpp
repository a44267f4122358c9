#include "cppdet/data/synth/shapes_dataset.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"
#include "cppdet/evaluation/mask_rle.h"

namespace cppdet::data::synth {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Portable draws from one mt19937 stream (its output sequence is fixed by the standard).
class Rng {
 public:
  explicit Rng(std::seed_seq& seq) : gen_(seq) {}
  double uniform() { return gen_() / 4294967296.0; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int randint(int lo, int hi) { return lo + static_cast<int>(uniform() * (hi - lo + 1)); }  // [lo, hi]

 private:
  std::mt19937 gen_;
};

enum ShapeClass { kCircle = 0, kTriangle, kRectangle, kStar, kNumClasses };

// Vertices of a shape of class `cls`, circumradius `r`, centred at (cx, cy).
std::vector<cv::Point2d> shape_outline(int cls, double cx, double cy, double r, Rng& rng) {
  const double theta = rng.uniform(0, 2 * kPi);
  std::vector<cv::Point2d> local;
  switch (cls) {
    case kCircle:
      for (int i = 0; i < 72; ++i) local.emplace_back(r * std::cos(2 * kPi * i / 72), r * std::sin(2 * kPi * i / 72));
      break;
    case kTriangle:
      for (int i = 0; i < 3; ++i) {
        const double a = 2 * kPi * i / 3 + rng.uniform(-0.25, 0.25);
        const double rr = r * rng.uniform(0.85, 1.0);
        local.emplace_back(rr * std::cos(a), rr * std::sin(a));
      }
      break;
    case kRectangle: {
      const double t = rng.uniform(0.35, 1.22);  // aspect tan(t): about 1:2.7 to 2.7:1
      const double a = r * std::cos(t), b = r * std::sin(t);
      local = {{-a, -b}, {a, -b}, {a, b}, {-a, b}};
      break;
    }
    default:  // five-pointed star
      for (int i = 0; i < 10; ++i) {
        const double rr = i % 2 == 0 ? r : 0.45 * r;
        local.emplace_back(rr * std::cos(kPi * i / 5 - kPi / 2), rr * std::sin(kPi * i / 5 - kPi / 2));
      }
  }
  std::vector<cv::Point2d> out;
  const double c = std::cos(theta), s = std::sin(theta);
  for (const auto& p : local) out.emplace_back(cx + c * p.x - s * p.y, cy + s * p.x + c * p.y);
  return out;
}

// The filled outline as a CV_8U 0/1 mask (sub-pixel vertex precision).
cv::Mat rasterize(const std::vector<cv::Point2d>& outline, cv::Size size) {
  constexpr int kShift = 4;
  std::vector<cv::Point> pts;
  for (const auto& p : outline)
    pts.emplace_back(static_cast<int>(std::lround(p.x * (1 << kShift))), static_cast<int>(std::lround(p.y * (1 << kShift))));
  cv::Mat mask = cv::Mat::zeros(size, CV_8U);
  cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{pts}, cv::Scalar(1), cv::LINE_8, kShift);
  return mask;
}

cv::Vec3d random_color(Rng& rng) { return {rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)}; }

double color_distance(const cv::Vec3d& a, const cv::Vec3d& b) {
  return std::abs(a[0] - b[0]) + std::abs(a[1] - b[1]) + std::abs(a[2] - b[2]);
}

// A CV_64FC3 background: a base colour, smooth low-frequency blotches and, half the time,
// stripes or faint lines.
cv::Mat render_background(cv::Size size, Rng& rng, cv::Vec3d& mean_color) {
  mean_color = random_color(rng);
  const int gw = rng.randint(3, 8), gh = rng.randint(3, 8);
  cv::Mat coarse(gh, gw, CV_64FC3);
  for (int y = 0; y < gh; ++y)
    for (int x = 0; x < gw; ++x)
      for (int ch = 0; ch < 3; ++ch) coarse.at<cv::Vec3d>(y, x)[ch] = mean_color[ch] + rng.uniform(-45, 45);
  cv::Mat bg;
  cv::resize(coarse, bg, size, 0, 0, cv::INTER_CUBIC);
  const double kind = rng.uniform();
  if (kind < 0.3) {  // stripes along a random direction
    const double angle = rng.uniform(0, kPi), period = rng.uniform(5, 24), amp = rng.uniform(8, 25);
    const double ca = std::cos(angle), sa = std::sin(angle);
    for (int y = 0; y < size.height; ++y)
      for (int x = 0; x < size.width; ++x) {
        const double v = amp * std::sin(2 * kPi * (ca * x + sa * y) / period);
        bg.at<cv::Vec3d>(y, x) += cv::Vec3d(v, v, v);
      }
  } else if (kind < 0.6) {  // faint random lines
    const int n = rng.randint(4, 12);
    for (int i = 0; i < n; ++i) {
      const cv::Point a(rng.randint(0, size.width - 1), rng.randint(0, size.height - 1));
      const cv::Point b(rng.randint(0, size.width - 1), rng.randint(0, size.height - 1));
      const double d = rng.uniform(-35, 35);
      cv::Mat line = cv::Mat::zeros(size, CV_8U);
      cv::line(line, a, b, cv::Scalar(1), rng.randint(1, 2));
      bg.setTo(mean_color + cv::Vec3d(d, d, d), line);
    }
  }
  return bg;
}

// True when the 0/1 mask has an inner contour (a hole) — not expressible as COCO polygons.
bool has_hole(const cv::Mat& mask) {
  std::vector<std::vector<cv::Point>> contours;
  std::vector<cv::Vec4i> hierarchy;
  cv::findContours(mask.clone(), contours, hierarchy, cv::RETR_CCOMP, cv::CHAIN_APPROX_SIMPLE);
  for (const auto& h : hierarchy)
    if (h[3] >= 0) return true;
  return false;
}

// Polygons, box and area of a visible region (CV_8U 0/1 mask).
ShapeAnnotation annotate(const cv::Mat& visible, int64_t category_id) {
  ShapeAnnotation ann;
  ann.category_id = category_id;
  // Traced on the mask upsampled kUp times, contour points are the centres of boundary
  // sub-pixels: 0.5 / kUp inside the true pixel boundary (pixel (x, y) covers [x, x+1) x
  // [y, y+1)), instead of half a pixel without upsampling. Then simplified to 1/kUp pixel.
  constexpr int kUp = 4;
  cv::Mat up;
  cv::resize(visible, up, cv::Size(), kUp, kUp, cv::INTER_NEAREST);
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(up, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  std::vector<evaluation::Rle> rles;
  for (const auto& c : contours) {
    std::vector<cv::Point> simple;
    cv::approxPolyDP(c, simple, 1.0, /*closed=*/true);
    if (simple.size() < 3) continue;
    std::vector<double> ring;
    for (const auto& p : simple) {
      ring.push_back((p.x + 0.5) / kUp);
      ring.push_back((p.y + 0.5) / kUp);
    }
    rles.push_back(evaluation::rle_from_polygon(ring, static_cast<uint32_t>(visible.rows), static_cast<uint32_t>(visible.cols)));
    ann.polygons.push_back(std::move(ring));
  }
  const cv::Rect box = cv::boundingRect(visible);
  ann.bbox[0] = box.x;
  ann.bbox[1] = box.y;
  ann.bbox[2] = box.width;
  ann.bbox[3] = box.height;
  ann.area = rles.empty() ? 0 : evaluation::rle_area(evaluation::rle_merge(rles, false));
  return ann;
}

uint32_t split_id(const std::string& split) {
  if (split == "train") return 1;
  if (split == "val") return 2;
  throw UserError("synth-shapes: unknown split '" + split + "' (train or val)");
}

void validate(const ShapesOptions& o) {
  if (o.num_train < 0 || o.num_val < 0) throw UserError("synth-shapes: --train and --val must be >= 0");
  if (o.width < 64 || o.height < 64 || o.width > 4096 || o.height > 4096)
    throw UserError("synth-shapes: --size must be between 64x64 and 4096x4096, got " + std::to_string(o.width) + "x" +
                    std::to_string(o.height));
  if (o.max_shapes < 2) throw UserError("synth-shapes: max_shapes must be >= 2");
  if (!(o.min_radius >= 4) || !(o.max_radius_frac > 0 && o.max_radius_frac <= 0.45) ||
      o.min_radius > o.max_radius_frac * std::min(o.width, o.height))
    throw UserError("synth-shapes: invalid shape size range");
}

nlohmann::json split_json(const std::string& split, const std::vector<ShapesImage>& images, const ShapesOptions& o) {
  nlohmann::json j;
  j["info"] = {{"description", "cppdet synthetic shapes (" + split + ")"},
               {"seed", o.seed},
               {"version", "1.0"}};
  j["images"] = nlohmann::json::array();
  j["annotations"] = nlohmann::json::array();
  int64_t ann_id = 1;
  for (size_t i = 0; i < images.size(); ++i) {
    const int64_t image_id = static_cast<int64_t>(i) + 1;
    char name[32];
    std::snprintf(name, sizeof(name), "%06zu.png", i);
    j["images"].push_back({{"id", image_id}, {"file_name", name}, {"width", o.width}, {"height", o.height}});
    for (const auto& a : images[i].annotations) {
      j["annotations"].push_back({{"id", ann_id++},
                                  {"image_id", image_id},
                                  {"category_id", a.category_id},
                                  {"segmentation", a.polygons},
                                  {"area", a.area},
                                  {"bbox", {a.bbox[0], a.bbox[1], a.bbox[2], a.bbox[3]}},
                                  {"iscrowd", 0}});
    }
  }
  j["categories"] = nlohmann::json::array();
  for (size_t c = 0; c < shape_classes().size(); ++c)
    j["categories"].push_back({{"id", static_cast<int64_t>(c) + 1}, {"name", shape_classes()[c]}, {"supercategory", "shape"}});
  return j;
}

}  // namespace

const std::vector<std::string>& shape_classes() {
  static const std::vector<std::string> names{"circle", "triangle", "rectangle", "star"};
  return names;
}

ShapesImage render_shapes_image(const ShapesOptions& o, const std::string& split, int64_t index) {
  validate(o);
  std::seed_seq seq{o.seed, split_id(split), static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32)};
  Rng rng(seq);
  const cv::Size size(o.width, o.height);
  cv::Vec3d bg_color;
  cv::Mat canvas = render_background(size, rng, bg_color);
  cv::Mat label = cv::Mat::zeros(size, CV_32S);  // 0 background, k = k-th placed shape
  std::vector<int> classes, full_area;
  std::vector<cv::Vec3d> colors;

  const int wanted = rng.randint(2, o.max_shapes);
  const double max_r = o.max_radius_frac * std::min(o.width, o.height);
  for (int s = 0; s < wanted; ++s) {
    const int cls = rng.randint(0, kNumClasses - 1);
    for (int attempt = 0; attempt < 20; ++attempt) {
      const double r = std::exp(rng.uniform(std::log(o.min_radius), std::log(max_r)));
      const double cx = rng.uniform(r, o.width - r), cy = rng.uniform(r, o.height - r);
      const cv::Mat mask = rasterize(shape_outline(cls, cx, cy, r, rng), size);
      // Earlier shapes must stay mostly visible and without holes.
      bool ok = true;
      cv::Mat new_label = label.clone();
      new_label.setTo(static_cast<int>(classes.size()) + 1, mask);
      for (size_t k = 0; k < classes.size() && ok; ++k) {
        const cv::Mat vis = (new_label == static_cast<int>(k) + 1) / 255;
        const int area = cv::countNonZero(vis);
        if (area == cv::countNonZero(label == static_cast<int>(k) + 1)) continue;  // untouched
        ok = area >= o.min_visible * full_area[k] && !has_hole(vis);
      }
      if (!ok) continue;
      // A colour that stands out from the background and from the other shapes.
      cv::Vec3d color = random_color(rng);
      for (int t = 0; t < 50; ++t) {
        bool distinct = color_distance(color, bg_color) >= 150;
        for (const auto& c : colors) distinct = distinct && color_distance(color, c) >= 90;
        if (distinct) break;
        color = random_color(rng);
      }
      // Fill with the colour plus a gentle linear gradient.
      const double gx = rng.uniform(-0.4, 0.4), gy = rng.uniform(-0.4, 0.4);
      for (int y = 0; y < o.height; ++y) {
        const uint8_t* m = mask.ptr<uint8_t>(y);
        cv::Vec3d* px = canvas.ptr<cv::Vec3d>(y);
        for (int x = 0; x < o.width; ++x)
          if (m[x]) {
            const double g = gx * (x - cx) + gy * (y - cy);
            px[x] = color + cv::Vec3d(g, g, g);
          }
      }
      label = new_label;
      classes.push_back(cls);
      full_area.push_back(cv::countNonZero(mask));
      colors.push_back(color);
      break;
    }
  }

  // Sensor-like noise, then 8-bit.
  for (int y = 0; y < o.height; ++y) {
    cv::Vec3d* px = canvas.ptr<cv::Vec3d>(y);
    for (int x = 0; x < o.width; ++x)
      for (int ch = 0; ch < 3; ++ch) px[x][ch] += rng.uniform(-10, 10);
  }
  ShapesImage out;
  canvas.convertTo(out.bgr, CV_8UC3);
  out.visible = cv::Mat::zeros(size, CV_32S);
  for (size_t k = 0; k < classes.size(); ++k) {
    const cv::Mat vis = (label == static_cast<int>(k) + 1) / 255;
    ShapeAnnotation ann = annotate(vis, classes[k] + 1);
    if (ann.polygons.empty()) continue;
    out.annotations.push_back(std::move(ann));
    out.visible.setTo(static_cast<int>(out.annotations.size()), vis);
  }
  return out;
}

void write_shapes_dataset(const std::string& out_dir, const ShapesOptions& o) {
  validate(o);
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const char* sub : {"train", "val", "annotations"}) {
    fs::create_directories(fs::path(out_dir) / sub, ec);
    if (ec) throw FileFormatError("cannot create directory " + (fs::path(out_dir) / sub).string() + ": " + ec.message());
  }
  for (const std::string split : {"train", "val"}) {
    const int64_t n = split == "train" ? o.num_train : o.num_val;
    std::vector<ShapesImage> images(static_cast<size_t>(n));
    std::atomic<int64_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto work = [&] {
      for (int64_t i = next++; i < n; i = next++) {
        try {
          ShapesImage img = render_shapes_image(o, split, i);
          std::vector<uchar> png;
          if (!cv::imencode(".png", img.bgr, png)) throw FileFormatError("cannot encode a PNG image");
          char name[32];
          std::snprintf(name, sizeof(name), "%06lld.png", static_cast<long long>(i));
          write_file_atomically((fs::path(out_dir) / split / name).string(), [&](std::ostream& os) {
            os.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
          });
          img.bgr.release();
          img.visible.release();
          images[static_cast<size_t>(i)] = std::move(img);
        } catch (...) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (!error) error = std::current_exception();
          next = n;
        }
      }
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < std::max(1, o.num_threads); ++t) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    if (error) std::rethrow_exception(error);
    const std::string text = split_json(split, images, o).dump();
    write_file_atomically((fs::path(out_dir) / "annotations" / ("instances_" + split + ".json")).string(),
                          [&](std::ostream& os) { os << text; });
  }
}

}  // namespace cppdet::data::synth
