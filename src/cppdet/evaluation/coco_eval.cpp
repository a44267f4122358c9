#include "cppdet/evaluation/coco_eval.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>
#include <unordered_map>

#include "cppdet/core/error.h"

namespace cppdet::evaluation {

std::vector<double> numpy_linspace(double start, double stop, int num) {
  std::vector<double> out;
  if (num <= 0) return out;
  if (num == 1) return {start};
  const double step = (stop - start) / (num - 1);
  for (int i = 0; i < num; ++i) out.push_back(start + i * step);
  out.back() = stop;
  return out;
}

namespace {

// numpy's pairwise_sum for float64 (8-way unrolled blocks of up to 128, recursive halving).
double pairwise_sum(const double* a, size_t n) {
  if (n < 8) {
    double res = 0.;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

}  // namespace

double numpy_mean(const std::vector<double>& values) {
  return pairwise_sum(values.data(), values.size()) / static_cast<double>(values.size());
}

CocoEvalParams CocoEvalParams::defaults(IouType iou_type) {
  CocoEvalParams p;
  p.iou_type = iou_type;
  p.iou_thrs = numpy_linspace(.5, 0.95, 10);
  p.rec_thrs = numpy_linspace(.0, 1.00, 101);
  const double big = 1e5 * 1e5;
  p.area_rng = {{0, big}, {0, 32.0 * 32.0}, {32.0 * 32.0, 96.0 * 96.0}, {96.0 * 96.0, big}};
  return p;
}

CocoEvalParams CocoEvalParams::proposal(std::vector<int64_t> proposal_nums) {
  CocoEvalParams p = defaults(IouType::kBbox);
  p.use_cats = false;
  p.max_dets = std::move(proposal_nums);
  return p;
}

// Per-image evaluation results, stored compactly. A "unit" is one (category k, image i) pair
// (one image with useCats=0); its detections are sorted by score and cut to maxDets[-1].
struct CocoEvaluator::Impl {
  size_t T = 0, R = 0, K = 0, A = 0, M = 0, I = 0;
  std::vector<uint8_t> present;         // [K*I]: not None in pycocotools
  std::vector<uint64_t> det_begin;      // [K*I + 1]: range into det_score
  std::vector<double> det_score;        // sorted scores of every unit, concatenated
  std::vector<uint8_t> det_code;        // [A][T] blocks per unit: 0 ignored, 1 TP, 2 FP
  std::vector<int32_t> npig;            // [K*I][A]: non-ignored gt
  std::vector<int64_t> k_cat_ids;

  uint8_t code(size_t unit, size_t a, size_t t, size_t d) const {
    const uint64_t b = det_begin[unit], n = det_begin[unit + 1] - b;
    return det_code[b * A * T + (a * T + t) * n + d];
  }
};

CocoEvaluator::CocoEvaluator(const CocoGroundTruth& gt, const CocoResults& dt, CocoEvalParams params)
    : gt_(gt), dt_(dt), params_(std::move(params)) {}

CocoEvaluator::~CocoEvaluator() { delete impl_; }

namespace {

template <typename F>
void parallel_for(size_t n, int threads, F&& body) {
  const size_t nt = std::min<size_t>(static_cast<size_t>(std::max(threads, 1)), std::max<size_t>(n, 1));
  if (nt <= 1) {
    for (size_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::vector<std::thread> pool;
  std::exception_ptr error;
  std::mutex error_mutex;
  std::atomic<size_t> next{0};
  for (size_t w = 0; w < nt; ++w) {
    pool.emplace_back([&] {
      try {
        for (size_t i; (i = next.fetch_add(1)) < n;) body(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

// Stable counting sort of item indices by bucket key (keys < num_keys; key < 0 drops the item).
void bucket_items(const std::vector<int64_t>& key, size_t num_keys, std::vector<uint64_t>& begin,
                  std::vector<uint32_t>& items) {
  begin.assign(num_keys + 1, 0);
  for (int64_t k : key)
    if (k >= 0) ++begin[static_cast<size_t>(k) + 1];
  for (size_t k = 0; k < num_keys; ++k) begin[k + 1] += begin[k];
  items.assign(begin[num_keys], 0);
  std::vector<uint64_t> fill(begin.begin(), begin.end() - 1);
  for (size_t i = 0; i < key.size(); ++i)
    if (key[i] >= 0) items[fill[static_cast<size_t>(key[i])]++] = static_cast<uint32_t>(i);
}

}  // namespace

void CocoEvaluator::evaluate() {
  CocoEvalParams& p = params_;
  // pycocotools: imgIds sorted unique; catIds sorted unique when useCats; maxDets sorted.
  if (p.img_ids.empty())
    for (const CocoImage& im : gt_.images) p.img_ids.push_back(im.id);
  std::sort(p.img_ids.begin(), p.img_ids.end());
  p.img_ids.erase(std::unique(p.img_ids.begin(), p.img_ids.end()), p.img_ids.end());
  if (p.cat_ids.empty()) {
    for (const CocoCategory& c : gt_.categories) p.cat_ids.push_back(c.id);
    std::sort(p.cat_ids.begin(), p.cat_ids.end());
  }
  if (p.use_cats) {
    std::sort(p.cat_ids.begin(), p.cat_ids.end());
    p.cat_ids.erase(std::unique(p.cat_ids.begin(), p.cat_ids.end()), p.cat_ids.end());
  }
  std::sort(p.max_dets.begin(), p.max_dets.end());
  if (p.iou_thrs.empty() || p.rec_thrs.empty() || p.max_dets.empty() || p.area_rng.empty())
    throw UserError("COCO evaluation: iouThrs, recThrs, maxDets and areaRng must not be empty");
  if (p.area_rng_lbl.size() != p.area_rng.size())
    throw UserError("COCO evaluation: areaRng has " + std::to_string(p.area_rng.size()) + " ranges but areaRngLbl has " +
                    std::to_string(p.area_rng_lbl.size()) + " labels");

  delete impl_;
  impl_ = new Impl;
  Impl& im = *impl_;
  im.T = p.iou_thrs.size();
  im.R = p.rec_thrs.size();
  im.A = p.area_rng.size();
  im.M = p.max_dets.size();
  im.I = p.img_ids.size();
  const size_t num_cat_slots = p.cat_ids.size();
  im.K = p.use_cats ? num_cat_slots : 1;
  im.k_cat_ids = p.use_cats ? p.cat_ids : std::vector<int64_t>{-1};

  // Position of every image / category in the evaluation order.
  std::vector<int64_t> img_pos_of_gt_image(gt_.images.size(), -1);
  for (size_t i = 0; i < p.img_ids.size(); ++i) {
    const int64_t gi = gt_.image_index(p.img_ids[i]);
    if (gi >= 0) img_pos_of_gt_image[static_cast<size_t>(gi)] = static_cast<int64_t>(i);
  }
  std::unordered_map<int64_t, int64_t> cat_pos;
  for (size_t k = 0; k < p.cat_ids.size(); ++k) cat_pos.emplace(p.cat_ids[k], static_cast<int64_t>(k));
  auto bucket_key = [&](const CocoAnnotation& a) -> int64_t {
    const int64_t gi = gt_.image_index(a.image_id);
    if (gi < 0) return -1;
    const int64_t i = img_pos_of_gt_image[static_cast<size_t>(gi)];
    auto c = cat_pos.find(a.category_id);
    if (i < 0 || c == cat_pos.end()) return -1;
    return i * static_cast<int64_t>(num_cat_slots) + c->second;
  };
  const auto& gts = gt_.annotations();
  const auto& dts = dt_.detections();
  std::vector<int64_t> key(gts.size());
  for (size_t j = 0; j < gts.size(); ++j) {
    key[j] = bucket_key(gts[j]);
    if (key[j] >= 0 && !gts[j].has_area)
      throw FileFormatError(gt_.source + ": annotation id " + std::to_string(gts[j].id) + " has no \"area\"");
  }
  std::vector<uint64_t> gt_begin, dt_begin;
  std::vector<uint32_t> gt_items, dt_items;
  const size_t num_keys = im.I * num_cat_slots;
  bucket_items(key, num_keys, gt_begin, gt_items);
  key.assign(dts.size(), -1);
  for (size_t j = 0; j < dts.size(); ++j) key[j] = bucket_key(dts[j]);
  bucket_items(key, num_keys, dt_begin, dt_items);
  key.clear();
  key.shrink_to_fit();

  // Masks for segm, made once (annToRLE with the image's size).
  const bool segm = p.iou_type == IouType::kSegm;
  std::vector<Rle> gt_rle, dt_rle;
  std::vector<BoxXywh> gt_rle_box, dt_rle_box;
  if (segm) {
    auto make = [&](const CocoAnnotationStore& store, const std::vector<uint32_t>& items, std::vector<Rle>& rles,
                    std::vector<BoxXywh>& boxes, const std::string& what) {
      rles.assign(store.annotations.size(), Rle{});
      boxes.assign(store.annotations.size(), BoxXywh{0, 0, 0, 0});
      parallel_for(items.size(), num_threads_, [&](size_t n) {
        const CocoAnnotation& a = store.annotations[items[n]];
        if (a.segmentation == SegmentationKind::kNone)
          throw FileFormatError(what + " id " + std::to_string(a.id) + " has no \"segmentation\"");
        const CocoImage& img = gt_.images[static_cast<size_t>(gt_.image_index(a.image_id))];
        rles[items[n]] = store.to_rle(a, static_cast<uint32_t>(std::max(img.height, 0)),
                                      static_cast<uint32_t>(std::max(img.width, 0)));
        boxes[items[n]] = rle_to_bbox(rles[items[n]]);
      });
    };
    make(gt_.store, gt_items, gt_rle, gt_rle_box, gt_.source + ": annotation");
    make(dt_.store, dt_items, dt_rle, dt_rle_box, dt_.source + ": detection");
  }

  // Units: (k, i) with useCats, else (0, i) pooling every category slot of image i.
  const size_t num_units = im.K * im.I;
  const size_t slots_per_unit = p.use_cats ? 1 : num_cat_slots;
  auto unit_key_begin = [&](size_t unit) -> size_t {
    if (p.use_cats) {
      const size_t k = unit / im.I, i = unit % im.I;
      return i * num_cat_slots + k;
    }
    return unit * num_cat_slots;
  };
  auto unit_range = [&](const std::vector<uint64_t>& begin, size_t unit) {
    const size_t k0 = unit_key_begin(unit);
    return std::pair<uint64_t, uint64_t>(begin[k0], begin[k0 + slots_per_unit]);
  };
  const size_t max_det_last = static_cast<size_t>(std::max<int64_t>(p.max_dets.back(), 0));
  im.present.assign(num_units, 0);
  im.det_begin.assign(num_units + 1, 0);
  for (size_t u = 0; u < num_units; ++u) {
    const auto [gb, ge] = unit_range(gt_begin, u);
    const auto [db, de] = unit_range(dt_begin, u);
    im.present[u] = (ge > gb || de > db) ? 1 : 0;
    im.det_begin[u + 1] = im.det_begin[u] + std::min<uint64_t>(de - db, max_det_last);
  }
  im.det_score.assign(im.det_begin[num_units], 0.0);
  im.det_code.assign(im.det_begin[num_units] * im.A * im.T, 0);
  im.npig.assign(num_units * im.A, 0);

  const size_t T = im.T, A = im.A;
  // Units of one category run on one worker; units are independent, so any split gives the same result.
  parallel_for(im.K, num_threads_, [&](size_t k) {
    std::vector<uint32_t> g_idx, d_idx, gtind;
    std::vector<double> ious;
    std::vector<uint8_t> gt_ig, crowd;
    std::vector<int64_t> gtm_dt;  // [T][G]: matched detection id (0 = none)
    std::vector<int64_t> dtm;     // [T][D]: matched gt id (0 = none)
    std::vector<uint8_t> dt_ig;   // [T][D]
    for (size_t i = 0; i < im.I; ++i) {
      const size_t u = k * im.I + i;
      if (!im.present[u]) continue;
      const auto [gb, ge] = unit_range(gt_begin, u);
      const auto [db, de] = unit_range(dt_begin, u);
      g_idx.assign(gt_items.begin() + static_cast<std::ptrdiff_t>(gb), gt_items.begin() + static_cast<std::ptrdiff_t>(ge));
      d_idx.assign(dt_items.begin() + static_cast<std::ptrdiff_t>(db), dt_items.begin() + static_cast<std::ptrdiff_t>(de));
      std::stable_sort(d_idx.begin(), d_idx.end(), [&](uint32_t x, uint32_t y) { return dts[x].score > dts[y].score; });
      if (d_idx.size() > max_det_last) d_idx.resize(max_det_last);
      const size_t G = g_idx.size(), D = d_idx.size();
      const uint64_t base = im.det_begin[u];
      for (size_t d = 0; d < D; ++d) im.det_score[base + d] = dts[d_idx[d]].score;
      // IoU [D][G] in file order of the gts.
      ious.assign(D * G, 0.0);
      for (size_t d = 0; d < D; ++d) {
        const CocoAnnotation& dd = dts[d_idx[d]];
        for (size_t g = 0; g < G; ++g) {
          const CocoAnnotation& gg = gts[g_idx[g]];
          ious[d * G + g] = segm ? rle_iou(dt_rle[d_idx[d]], dt_rle_box[d_idx[d]], gt_rle[g_idx[g]],
                                           gt_rle_box[g_idx[g]], gg.iscrowd)
                                 : bbox_iou(dd.bbox, gg.bbox, gg.iscrowd);
        }
      }
      for (size_t a = 0; a < A; ++a) {
        const double lo = p.area_rng[a][0], hi = p.area_rng[a][1];
        gt_ig.resize(G);
        for (size_t g = 0; g < G; ++g) {
          const CocoAnnotation& gg = gts[g_idx[g]];
          gt_ig[g] = (gg.iscrowd || gg.area < lo || gg.area > hi) ? 1 : 0;
        }
        gtind.resize(G);
        std::iota(gtind.begin(), gtind.end(), 0u);
        std::stable_sort(gtind.begin(), gtind.end(), [&](uint32_t x, uint32_t y) { return gt_ig[x] < gt_ig[y]; });
        crowd.resize(G);
        int32_t non_ignored = 0;
        for (size_t g = 0; g < G; ++g) {
          crowd[g] = gts[g_idx[gtind[g]]].iscrowd ? 1 : 0;
          non_ignored += gt_ig[gtind[g]] ? 0 : 1;
        }
        im.npig[u * A + a] = non_ignored;
        gtm_dt.assign(T * G, 0);
        dtm.assign(T * D, 0);
        dt_ig.assign(T * D, 0);
        if (G > 0 && D > 0) {
          for (size_t t = 0; t < T; ++t) {
            for (size_t d = 0; d < D; ++d) {
              double best = std::min(p.iou_thrs[t], 1 - 1e-10);
              int64_t m = -1;
              for (size_t g = 0; g < G; ++g) {
                if (gtm_dt[t * G + g] > 0 && !crowd[g]) continue;
                if (m > -1 && gt_ig[gtind[static_cast<size_t>(m)]] == 0 && gt_ig[gtind[g]] == 1) break;
                const double iou = ious[d * G + gtind[g]];
                if (iou < best) continue;
                best = iou;
                m = static_cast<int64_t>(g);
              }
              if (m == -1) continue;
              const size_t mg = static_cast<size_t>(m);
              dt_ig[t * D + d] = gt_ig[gtind[mg]];
              dtm[t * D + d] = gts[g_idx[gtind[mg]]].id;
              gtm_dt[t * G + mg] = dts[d_idx[d]].id;
            }
          }
        }
        uint8_t* codes = im.det_code.data() + base * A * T + a * T * D;
        for (size_t t = 0; t < T; ++t) {
          for (size_t d = 0; d < D; ++d) {
            const double area = dts[d_idx[d]].area;
            const bool outside = area < lo || area > hi;
            const bool ignored = dt_ig[t * D + d] || (dtm[t * D + d] == 0 && outside);
            codes[t * D + d] = ignored ? 0 : (dtm[t * D + d] != 0 ? 1 : 2);
          }
        }
      }
    }
  });
}

void CocoEvaluator::accumulate() {
  if (!impl_) throw UserError("COCO evaluation: accumulate() before evaluate()");
  const Impl& im = *impl_;
  const CocoEvalParams& p = params_;
  const size_t T = im.T, R = im.R, K = im.K, A = im.A, M = im.M;
  precision_.assign(T * R * K * A * M, -1.0);
  recall_.assign(T * K * A * M, -1.0);
  scores_.assign(T * R * K * A * M, -1.0);
  auto pidx = [&](size_t t, size_t r, size_t k, size_t a, size_t m) { return (((t * R + r) * K + k) * A + a) * M + m; };
  auto ridx = [&](size_t t, size_t k, size_t a, size_t m) { return ((t * K + k) * A + a) * M + m; };
  const double eps = 2.220446049250313e-16;  // np.spacing(1)

  parallel_for(K, num_threads_, [&](size_t k) {
    struct Entry {
      double score;
      uint32_t unit_pos;  // position of the unit in `units`
      uint32_t d;
    };
    std::vector<size_t> units;
    for (size_t i = 0; i < im.I; ++i)
      if (im.present[k * im.I + i]) units.push_back(k * im.I + i);
    if (units.empty()) return;
    std::vector<Entry> entries;
    std::vector<double> tp_c, fp_c, pr, rc;
    for (size_t m = 0; m < M; ++m) {
      const size_t max_det = static_cast<size_t>(std::max<int64_t>(p.max_dets[m], 0));
      entries.clear();
      for (size_t up = 0; up < units.size(); ++up) {
        const size_t u = units[up];
        const uint64_t b = im.det_begin[u], n = std::min<uint64_t>(im.det_begin[u + 1] - b, max_det);
        for (uint64_t d = 0; d < n; ++d)
          entries.push_back({im.det_score[b + d], static_cast<uint32_t>(up), static_cast<uint32_t>(d)});
      }
      // np.argsort(-scores, kind='mergesort'): descending, ties keep concatenation order.
      std::stable_sort(entries.begin(), entries.end(), [](const Entry& x, const Entry& y) { return -x.score < -y.score; });
      const size_t nd = entries.size();
      for (size_t a = 0; a < A; ++a) {
        int64_t npig = 0;
        for (size_t u : units) npig += im.npig[u * A + a];
        if (npig == 0) continue;
        for (size_t t = 0; t < T; ++t) {
          tp_c.resize(nd);
          fp_c.resize(nd);
          double tp = 0, fp = 0;
          for (size_t j = 0; j < nd; ++j) {
            const uint8_t c = im.code(units[entries[j].unit_pos], a, t, entries[j].d);
            if (c == 1) tp += 1;
            else if (c == 2) fp += 1;
            tp_c[j] = tp;
            fp_c[j] = fp;
          }
          rc.resize(nd);
          pr.resize(nd);
          for (size_t j = 0; j < nd; ++j) {
            rc[j] = tp_c[j] / static_cast<double>(npig);
            pr[j] = tp_c[j] / (fp_c[j] + tp_c[j] + eps);
          }
          recall_[ridx(t, k, a, m)] = nd ? rc[nd - 1] : 0;
          for (size_t j = nd; j-- > 1;)
            if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
          for (size_t r = 0; r < R; ++r) {
            precision_[pidx(t, r, k, a, m)] = 0;
            scores_[pidx(t, r, k, a, m)] = 0;
          }
          for (size_t r = 0; r < R; ++r) {
            const size_t j = static_cast<size_t>(std::lower_bound(rc.begin(), rc.end(), p.rec_thrs[r]) - rc.begin());
            if (j >= nd) break;
            precision_[pidx(t, r, k, a, m)] = pr[j];
            scores_[pidx(t, r, k, a, m)] = entries[j].score;
          }
        }
      }
    }
  });
}

std::array<size_t, 5> CocoEvaluator::precision_shape() const {
  if (!impl_) return {0, 0, 0, 0, 0};
  return {impl_->T, impl_->R, impl_->K, impl_->A, impl_->M};
}

std::vector<int64_t> CocoEvaluator::k_category_ids() const { return impl_ ? impl_->k_cat_ids : std::vector<int64_t>{}; }

namespace {

// Mean of the entries > -1 of precision[t][:][k][a][m] (ap) or recall[t][k][a][m] over the
// selected t, k, (a, m) pairs, visited in numpy's C order; -1 when nothing is selected.
double masked_mean(const std::vector<double>& arr, bool ap, const std::array<size_t, 5>& shape,
                   const std::vector<size_t>& ts, const std::vector<size_t>& ks, const std::vector<size_t>& as,
                   const std::vector<size_t>& ms) {
  const size_t R = shape[1], K = shape[2], A = shape[3], M = shape[4];
  // numpy broadcasting of the two index lists aind, mind.
  std::vector<std::pair<size_t, size_t>> am;
  if (!as.empty() && !ms.empty()) {
    const size_t n = std::max(as.size(), ms.size());
    if ((as.size() != n && as.size() != 1) || (ms.size() != n && ms.size() != 1))
      throw UserError("COCO evaluation: area labels and maxDets values select incompatible index lists");
    for (size_t j = 0; j < n; ++j) am.emplace_back(as[as.size() == 1 ? 0 : j], ms[ms.size() == 1 ? 0 : j]);
  }
  std::vector<double> vals;
  for (size_t t : ts) {
    for (size_t r = 0; r < (ap ? R : 1); ++r) {
      for (size_t k : ks) {
        for (auto [a, m] : am) {
          const size_t idx = ap ? (((t * R + r) * K + k) * A + a) * M + m : ((t * K + k) * A + a) * M + m;
          if (arr[idx] > -1) vals.push_back(arr[idx]);
        }
      }
    }
  }
  return vals.empty() ? -1.0 : numpy_mean(vals);
}

std::string format_summary_line(bool ap, const std::string& iou_str, const std::string& area, int64_t max_dets,
                                double value) {
  char buf[256];
  std::snprintf(buf, sizeof buf, " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3lld ] = %0.3f",
                ap ? "Average Precision" : "Average Recall", ap ? "(AP)" : "(AR)", iou_str.c_str(), area.c_str(),
                static_cast<long long>(max_dets), value);
  return buf;
}

}  // namespace

double CocoEvaluator::category_metric(bool ap, size_t k, const std::string& area_label, int64_t max_det,
                                      double iou) const {
  const auto shape = precision_shape();
  std::vector<size_t> ts, as, ms;
  for (size_t t = 0; t < params_.iou_thrs.size(); ++t)
    if (iou < 0 || params_.iou_thrs[t] == iou) ts.push_back(t);
  for (size_t a = 0; a < params_.area_rng_lbl.size(); ++a)
    if (params_.area_rng_lbl[a] == area_label) as.push_back(a);
  for (size_t m = 0; m < params_.max_dets.size(); ++m)
    if (params_.max_dets[m] == max_det) ms.push_back(m);
  return masked_mean(ap ? precision_ : recall_, ap, shape, ts, {k}, as, ms);
}

std::vector<CategoryAp> CocoEvaluator::per_category_ap() const {
  std::vector<CategoryAp> out;
  const auto ids = k_category_ids();
  const int64_t last = params_.max_dets.back();
  for (size_t k = 0; k < ids.size(); ++k) {
    CategoryAp c;
    c.category_id = ids[k];
    c.ap = category_metric(true, k, "all", last);
    c.ap50 = category_metric(true, k, "all", last, 0.5);
    c.ap75 = category_metric(true, k, "all", last, 0.75);
    out.push_back(c);
  }
  return out;
}

void CocoEvaluator::summarize() {
  if (precision_.empty() && recall_.empty()) throw UserError("COCO evaluation: summarize() before accumulate()");
  const CocoEvalParams& p = params_;
  if (p.max_dets.size() < 3)
    throw UserError("COCO evaluation: the summary needs at least 3 maxDets values, got " +
                    std::to_string(p.max_dets.size()));
  const auto shape = precision_shape();
  std::vector<size_t> all_k(shape[2]);
  std::iota(all_k.begin(), all_k.end(), size_t{0});
  char buf[64];
  std::snprintf(buf, sizeof buf, "%0.2f:%0.2f", p.iou_thrs.front(), p.iou_thrs.back());
  const std::string all_iou = buf;
  summary_lines_.clear();
  auto one = [&](bool ap, double iou_thr, const std::string& area, int64_t max_dets) {
    std::vector<size_t> ts, as, ms;
    for (size_t t = 0; t < p.iou_thrs.size(); ++t)
      if (iou_thr < 0 || p.iou_thrs[t] == iou_thr) ts.push_back(t);
    for (size_t a = 0; a < p.area_rng_lbl.size(); ++a)
      if (p.area_rng_lbl[a] == area) as.push_back(a);
    for (size_t m = 0; m < p.max_dets.size(); ++m)
      if (p.max_dets[m] == max_dets) ms.push_back(m);
    const double v = masked_mean(ap ? precision_ : recall_, ap, shape, ts, all_k, as, ms);
    std::string iou_str = all_iou;
    if (iou_thr >= 0) {
      std::snprintf(buf, sizeof buf, "%0.2f", iou_thr);
      iou_str = buf;
    }
    summary_lines_.push_back(format_summary_line(ap, iou_str, area, max_dets, v));
    return v;
  };
  const auto& md = p.max_dets;
  stats_[0] = one(true, -1, "all", 100);
  stats_[1] = one(true, .5, "all", md[2]);
  stats_[2] = one(true, .75, "all", md[2]);
  stats_[3] = one(true, -1, "small", md[2]);
  stats_[4] = one(true, -1, "medium", md[2]);
  stats_[5] = one(true, -1, "large", md[2]);
  stats_[6] = one(false, -1, "all", md[0]);
  stats_[7] = one(false, -1, "all", md[1]);
  stats_[8] = one(false, -1, "all", md[2]);
  stats_[9] = one(false, -1, "small", md[2]);
  stats_[10] = one(false, -1, "medium", md[2]);
  stats_[11] = one(false, -1, "large", md[2]);
}

CocoEvalSummary evaluate_coco(const CocoGroundTruth& gt, const CocoResults& dt, const CocoEvalParams& params) {
  CocoEvaluator ev(gt, dt, params);
  ev.evaluate();
  ev.accumulate();
  ev.summarize();
  return {ev.stats(), ev.summary_lines(), ev.per_category_ap()};
}

}  // namespace cppdet::evaluation
