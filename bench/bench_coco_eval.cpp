// COCO evaluation benchmark (not a test). Each measuring mode runs in its own process so that
// peak RSS belongs to that workload; bench/run_coco_eval_bench.sh runs them all.
//
//   bench_coco_eval large DIR          val2017-sized bbox case (gen_cases.py --large DIR; generated if
//                                      missing): load GT, then time loadRes + evaluate + accumulate +
//                                      summarize, check the stats against pycocotools' expected file,
//                                      print the ratio to pycocotools' recorded 67.1 s / 2148 MiB.
//   bench_coco_eval gen-segm DIR       synthetic 5000-image segm case (polygon GT, RLE results)
//   bench_coco_eval gen-crowded DIR    synthetic 1500 images x 2000 detections (bbox)
//   bench_coco_eval eval DIR bbox|segm time evaluation of DIR/gt.json + DIR/dt_<type>.json
//   bench_coco_eval gen-train FILE     synthetic instances_train2017-sized annotation file (~448 MB)
//   bench_coco_eval load FILE          time + peak RSS of loading a COCO annotation file
#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "cppdet/evaluation/coco_eval.h"
#include "cppdet/evaluation/coco_json.h"
#include "cppdet/evaluation/mask_rle.h"

namespace fs = std::filesystem;
using namespace cppdet::evaluation;

namespace {

// pycocotools' figures for the large case on this machine kind (../shared/oracle/coco/timing.md).
constexpr double kPycocotoolsSeconds = 67.1;
constexpr double kPycocotoolsPeakMiB = 2148;

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// User + system CPU seconds of this process (all threads); on a shared, busy machine this is the
// figure that does not depend on how much of the CPU the process was given.
double cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

std::string shared_dir() {
  if (const char* v = std::getenv("CPPDET_SHARED_DIR")) return v;
  return (fs::path(__FILE__).parent_path().parent_path().parent_path() / "shared").string();
}

// The Python with numpy that gen_cases.py needs (Debian's /usr/bin/python3 unless CPPDET_PYTHON says otherwise).
std::string python3() {
  if (const char* v = std::getenv("CPPDET_PYTHON")) return v;
  return fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

const std::vector<int64_t>& coco_cat_ids() {
  static const std::vector<int64_t> ids = [] {
    std::vector<int64_t> v;
    for (int i = 1; i <= 90; ++i)
      if (i != 12 && i != 26 && i != 29 && i != 30 && i != 45 && i != 66 && i != 68 && i != 69 && i != 71 && i != 83)
        v.push_back(i);
    return v;
  }();
  return ids;
}

// A star-shaped polygon around (cx, cy) with radii (rx, ry), coordinates rounded to 2 decimals.
std::vector<double> star_polygon(std::mt19937_64& rng, double cx, double cy, double rx, double ry, int k) {
  std::uniform_real_distribution<double> ang(0, 2 * M_PI), rad(0.55, 1.0);
  std::vector<double> a(k);
  for (double& x : a) x = ang(rng);
  std::sort(a.begin(), a.end());
  std::vector<double> xy;
  for (double t : a) {
    const double r = rad(rng);
    xy.push_back(std::round((cx + rx * r * std::cos(t)) * 100) / 100);
    xy.push_back(std::round((cy + ry * r * std::sin(t)) * 100) / 100);
  }
  return xy;
}

double shoelace(const std::vector<double>& xy) {
  double s = 0;
  const size_t n = xy.size() / 2;
  for (size_t i = 0; i < n; ++i) {
    const size_t j = (i + 1) % n;
    s += xy[2 * i] * xy[2 * j + 1] - xy[2 * j] * xy[2 * i + 1];
  }
  return std::fabs(s) / 2;
}

BoxXywh poly_box(const std::vector<double>& xy) {
  double x0 = 1e18, y0 = 1e18, x1 = -1e18, y1 = -1e18;
  for (size_t i = 0; i + 1 < xy.size(); i += 2) {
    x0 = std::min(x0, xy[i]);
    x1 = std::max(x1, xy[i]);
    y0 = std::min(y0, xy[i + 1]);
    y1 = std::max(y1, xy[i + 1]);
  }
  return {x0, y0, x1 - x0, y1 - y0};
}

void write_numbers(FILE* f, const double* v, size_t n) {
  for (size_t i = 0; i < n; ++i) std::fprintf(f, i ? ",%.2f" : "%.2f", v[i]);
}

// Synthetic GT + detections. segm: polygons GT, RLE detections; otherwise boxes only.
void generate_case(const std::string& dir, bool segm, int n_images, int dets_per_image, double gt_mean, uint64_t seed) {
  fs::create_directories(dir);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> U(0, 1);
  std::poisson_distribution<int> n_gt(gt_mean);
  const auto& cats = coco_cat_ids();
  FILE* g = std::fopen((dir + "/gt.json").c_str(), "w");
  FILE* d = std::fopen((dir + (segm ? "/dt_segm.json" : "/dt_bbox.json")).c_str(), "w");
  std::string images;
  std::fprintf(g, "{\"annotations\":[");
  std::fprintf(d, "[");
  int64_t ann_id = 1;
  bool first_ann = true, first_det = true;
  for (int im = 1; im <= n_images; ++im) {
    const int W = 320 + static_cast<int>(U(rng) * 321), H = 240 + static_cast<int>(U(rng) * 401);
    images += (im > 1 ? "," : "") + std::string("{\"id\":") + std::to_string(im) + ",\"width\":" + std::to_string(W) +
              ",\"height\":" + std::to_string(H) + ",\"file_name\":\"" + std::to_string(im) + ".jpg\"}";
    struct Obj { std::vector<double> poly; BoxXywh box; int64_t cat; };
    std::vector<Obj> objs;
    const int ng = n_gt(rng);
    for (int j = 0; j < ng; ++j) {
      const double side = U(rng) < 0.4 ? 4 + 28 * U(rng) : U(rng) < 0.6 ? 32 + 64 * U(rng) : 96 + 250 * U(rng);
      const double ar = std::exp(-0.8 + 1.6 * U(rng));
      const double w = std::min(side * ar, W - 1.0), h = std::min(side / ar, H - 1.0);
      const double x = U(rng) * (W - w), y = U(rng) * (H - h);
      Obj o{star_polygon(rng, x + w / 2, y + h / 2, w / 2, h / 2, 6 + static_cast<int>(U(rng) * 12)), {}, cats[rng() % cats.size()]};
      o.box = poly_box(o.poly);
      const bool crowd = U(rng) < 0.01;
      std::fprintf(g, "%s{\"id\":%lld,\"image_id\":%d,\"category_id\":%lld,\"iscrowd\":%d,\"area\":%.2f,\"bbox\":[",
                   first_ann ? "" : ",", static_cast<long long>(ann_id++), im, static_cast<long long>(o.cat), crowd ? 1 : 0,
                   shoelace(o.poly));
      first_ann = false;
      write_numbers(g, o.box.data(), 4);
      if (crowd) {
        const Rle rle = rle_from_polygon(o.poly, static_cast<uint32_t>(H), static_cast<uint32_t>(W));
        std::fprintf(g, "],\"segmentation\":{\"size\":[%d,%d],\"counts\":[", H, W);
        for (size_t c = 0; c < rle.counts.size(); ++c) std::fprintf(g, c ? ",%u" : "%u", rle.counts[c]);
        std::fprintf(g, "]}}");
      } else {
        std::fprintf(g, "],\"segmentation\":[[");
        write_numbers(g, o.poly.data(), o.poly.size());
        std::fprintf(g, "]]}");
      }
      objs.push_back(std::move(o));
    }
    for (int j = 0; j < dets_per_image; ++j) {
      std::vector<double> poly;
      int64_t cat;
      double score;
      if (!objs.empty() && U(rng) < 0.5) {
        const Obj& o = objs[rng() % objs.size()];
        const double st = std::array<double, 4>{0.03, 0.08, 0.15, 0.3}[rng() % 4];
        const double dx = st * o.box[2] * (U(rng) - 0.5) * 2, dy = st * o.box[3] * (U(rng) - 0.5) * 2;
        for (size_t i = 0; i < o.poly.size(); i += 2) {
          poly.push_back(std::round((o.poly[i] + dx) * 100) / 100);
          poly.push_back(std::round((o.poly[i + 1] + dy) * 100) / 100);
        }
        cat = U(rng) < 0.08 ? cats[rng() % cats.size()] : o.cat;
        score = 0.3 + 0.7 * U(rng) * (1 - st);
      } else {
        const double side = 4 + 296 * U(rng), ar = std::exp(-0.8 + 1.6 * U(rng));
        poly = star_polygon(rng, U(rng) * W, U(rng) * H, side * ar / 2, side / ar / 2, 8);
        cat = cats[rng() % cats.size()];
        score = 0.6 * U(rng);
      }
      const BoxXywh box = poly_box(poly);
      std::fprintf(d, "%s{\"image_id\":%d,\"category_id\":%lld,", first_det ? "" : ",", im, static_cast<long long>(cat));
      first_det = false;
      if (segm) {
        const Rle rle = rle_from_polygon(poly, static_cast<uint32_t>(H), static_cast<uint32_t>(W));
        std::string s = rle_to_string(rle);
        std::string escaped;
        for (char c : s) {
          if (c == '\\') escaped += '\\';
          escaped += c;
        }
        std::fprintf(d, "\"segmentation\":{\"size\":[%d,%d],\"counts\":\"%s\"}", H, W, escaped.c_str());
      } else {
        std::fprintf(d, "\"bbox\":[");
        write_numbers(d, box.data(), 4);
        std::fprintf(d, "]");
      }
      std::fprintf(d, ",\"score\":%.5f}", std::round(score * 1e5) / 1e5);
    }
  }
  std::fprintf(g, "],\"images\":[%s],\"categories\":[", images.c_str());
  for (size_t c = 0; c < cats.size(); ++c)
    std::fprintf(g, "%s{\"id\":%lld,\"name\":\"cat%lld\",\"supercategory\":\"x\"}", c ? "," : "",
                 static_cast<long long>(cats[c]), static_cast<long long>(cats[c]));
  std::fprintf(g, "]}");
  std::fprintf(d, "]");
  std::fclose(g);
  std::fclose(d);
}

// An instances_train2017-sized file: 118287 images, 860001 annotations (about 1% crowd with
// uncompressed RLE, the rest polygons with 2-decimal coordinates), 80 categories; ~448 MB.
void generate_train(const std::string& path) {
  std::mt19937_64 rng(2017);
  std::uniform_real_distribution<double> U(0, 1);
  const auto& cats = coco_cat_ids();
  const int n_images = 118287;
  const int64_t n_anns = 860001;
  FILE* f = std::fopen(path.c_str(), "w");
  std::fprintf(f, "{\"info\":{\"description\":\"synthetic instances_train2017-sized\",\"year\":2017},\"licenses\":[],\"images\":[");
  std::vector<std::pair<int, int>> sizes(n_images + 1);
  for (int im = 1; im <= n_images; ++im) {
    const int W = 320 + static_cast<int>(U(rng) * 321), H = 240 + static_cast<int>(U(rng) * 401);
    sizes[im] = {W, H};
    std::fprintf(f,
                 "%s{\"license\":3,\"file_name\":\"%012d.jpg\",\"coco_url\":\"http://images.cocodataset.org/train2017/"
                 "%012d.jpg\",\"height\":%d,\"width\":%d,\"date_captured\":\"2013-11-14 11:18:45\",\"flickr_url\":"
                 "\"http://farm9.staticflickr.com/8186/8119368305_4e622c8349_z.jpg\",\"id\":%d}",
                 im > 1 ? "," : "", im, im, H, W, im);
  }
  std::fprintf(f, "],\"annotations\":[");
  for (int64_t a = 1; a <= n_anns; ++a) {
    const int im = 1 + static_cast<int>(rng() % n_images);
    const auto [W, H] = sizes[im];
    const double side = 8 + 200 * U(rng) * U(rng), ar = std::exp(-0.8 + 1.6 * U(rng));
    const double w = std::min(side * ar, W - 1.0), h = std::min(side / ar, H - 1.0);
    const double x = U(rng) * (W - w), y = U(rng) * (H - h);
    const bool crowd = U(rng) < 0.009;
    std::vector<double> poly = star_polygon(rng, x + w / 2, y + h / 2, w / 2, h / 2, 8 + static_cast<int>(U(rng) * 37));
    const BoxXywh box = poly_box(poly);
    std::fprintf(f, "%s{\"segmentation\":", a > 1 ? "," : "");
    if (crowd) {
      const Rle rle = rle_from_polygon(poly, static_cast<uint32_t>(H), static_cast<uint32_t>(W));
      std::fprintf(f, "{\"counts\":[");
      for (size_t c = 0; c < rle.counts.size(); ++c) std::fprintf(f, c ? ",%u" : "%u", rle.counts[c]);
      std::fprintf(f, "],\"size\":[%d,%d]}", H, W);
    } else {
      std::fprintf(f, "[[");
      write_numbers(f, poly.data(), poly.size());
      std::fprintf(f, "]]");
    }
    std::fprintf(f, ",\"area\":%.4f,\"iscrowd\":%d,\"image_id\":%d,\"bbox\":[", shoelace(poly), crowd ? 1 : 0, im);
    write_numbers(f, box.data(), 4);
    std::fprintf(f, "],\"category_id\":%lld,\"id\":%lld}", static_cast<long long>(cats[rng() % cats.size()]),
                 static_cast<long long>(a));
  }
  std::fprintf(f, "],\"categories\":[");
  for (size_t c = 0; c < cats.size(); ++c)
    std::fprintf(f, "%s{\"supercategory\":\"x\",\"id\":%lld,\"name\":\"cat%lld\"}", c ? "," : "",
                 static_cast<long long>(cats[c]), static_cast<long long>(cats[c]));
  std::fprintf(f, "]}");
  std::fclose(f);
}

struct EvalTiming {
  std::array<double, 12> stats{};
  double timed_total_s = 0;      // loadRes + evaluate + accumulate + summarize, wall
  double timed_total_cpu_s = 0;  // the same, user + system CPU
};

// Loads the GT, then times loadRes + evaluate + accumulate + summarize.
EvalTiming time_eval(const std::string& gt_path, const std::string& dt_path, IouType type,
                                 bool print_lines) {
  double t0 = now_s();
  const CocoGroundTruth gt = load_coco_ground_truth(gt_path);
  const double t_gt = now_s() - t0;
  const double cpu0 = cpu_s();
  t0 = now_s();
  const CocoResults dt = load_coco_results(dt_path, gt);
  const double t_res = now_s() - t0;
  CocoEvaluator ev(gt, dt, CocoEvalParams::defaults(type));
  t0 = now_s();
  ev.evaluate();
  const double t_ev = now_s() - t0;
  t0 = now_s();
  ev.accumulate();
  const double t_acc = now_s() - t0;
  t0 = now_s();
  ev.summarize();
  const double t_sum = now_s() - t0;
  if (print_lines)
    for (const auto& l : ev.summary_lines()) std::printf("%s\n", l.c_str());
  const double total = t_res + t_ev + t_acc + t_sum;
  const double cpu_total = cpu_s() - cpu0;
  std::printf("images %zu, gt %zu, detections %zu\n", gt.images.size(), gt.annotations().size(), dt.detections().size());
  std::printf("GT load %.3f s (not in the timed total)\n", t_gt);
  std::printf("loadRes %.3f s, evaluate %.3f s, accumulate %.3f s, summarize %.4f s\n", t_res, t_ev, t_acc, t_sum);
  std::printf("timed total (loadRes+evaluate+accumulate+summarize): %.3f s wall, %.3f s CPU (user+sys, all threads)\n",
              total, cpu_total);
  std::printf("peak RSS: %.0f MiB\n", peak_rss_mib());
  return {ev.stats(), total, cpu_total};
}

int run_large(const std::string& dir) {
  const std::string gen = shared_dir() + "/oracle/coco/gen_cases.py";
  const std::string expected = shared_dir() + "/oracle/coco/cases/large_val2017/expected_bbox.json";
  if (!fs::exists(dir + "/gt.json") || !fs::exists(dir + "/dt_bbox.json")) {
    const std::string cmd = python3() + " '" + gen + "' --large '" + dir + "'";
    std::printf("generating the large case: %s\n", cmd.c_str());
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "cannot generate the large case (needs python3 + numpy and %s)\n", gen.c_str());
      return 1;
    }
  }
  const double t0 = now_s();
  const EvalTiming timing = time_eval(dir + "/gt.json", dir + "/dt_bbox.json", IouType::kBbox, true);
  const auto& stats = timing.stats;
  const double wall = now_s() - t0;
  const double peak = peak_rss_mib();
  bool identical = true;
  if (fs::exists(expected)) {
    std::ifstream in(expected);
    const auto want = nlohmann::json::parse(in)["stats"].get<std::vector<double>>();
    for (size_t i = 0; i < 12; ++i) identical = identical && stats[i] == want[i];
    std::printf("stats vs pycocotools' expected_bbox.json: %s\n", identical ? "bit-identical" : "DIFFERENT");
  } else {
    std::printf("expected stats not found (%s): not compared\n", expected.c_str());
  }
  std::printf("whole process wall (incl. GT load): %.3f s\n", wall);
  std::printf("pycocotools (recorded in timing.md; it cannot be installed here, so not run): %.1f s, %.0f MiB\n",
              kPycocotoolsSeconds, kPycocotoolsPeakMiB);
  std::printf("ratio: %.1fx faster than pycocotools (timed section, wall); peak RSS %.1f%% of pycocotools'\n",
              kPycocotoolsSeconds / std::max(1e-9, timing.timed_total_s), 100.0 * peak / kPycocotoolsPeakMiB);
  std::printf("ratio by CPU time (pycocotools is single-threaded, its wall ~ its CPU): %.1fx\n",
              kPycocotoolsSeconds / std::max(1e-9, timing.timed_total_cpu_s));
  return identical ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s large DIR | gen-segm DIR | gen-crowded DIR | eval DIR bbox|segm | gen-train FILE | load FILE\n",
                 argv[0]);
    return 2;
  }
  const std::string mode = argv[1], arg = argv[2];
  try {
    if (mode == "large") return run_large(arg);
    if (mode == "gen-segm") {
      generate_case(arg, /*segm=*/true, 5000, 100, 7.3, 5000);
    } else if (mode == "gen-crowded") {
      generate_case(arg, /*segm=*/false, 1500, 2000, 15, 1500);
    } else if (mode == "eval") {
      const bool segm = argc > 3 && std::string(argv[3]) == "segm";
      time_eval(arg + "/gt.json", arg + (segm ? "/dt_segm.json" : "/dt_bbox.json"), segm ? IouType::kSegm : IouType::kBbox,
                true);
    } else if (mode == "gen-train") {
      generate_train(arg);
      std::printf("%s: %.1f MB\n", arg.c_str(), static_cast<double>(fs::file_size(arg)) / 1e6);
    } else if (mode == "load") {
      const double t0 = now_s();
      const CocoGroundTruth gt = load_coco_ground_truth(arg);
      const double t = now_s() - t0;
      const double cpu = cpu_s();
      std::printf("%s: %.1f MB, %zu images, %zu annotations, %zu categories, %zu polygon coordinates\n", arg.c_str(),
                  static_cast<double>(fs::file_size(arg)) / 1e6, gt.images.size(), gt.annotations().size(),
                  gt.categories.size(), gt.store.coords.size());
      std::printf("load %.3f s wall, %.3f s CPU, peak RSS %.0f MiB (goal: <= 10 s, <= 3072 MiB)\n", t, cpu,
                  peak_rss_mib());
    } else {
      std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
