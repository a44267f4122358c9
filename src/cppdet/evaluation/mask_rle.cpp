#include "cppdet/evaluation/mask_rle.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace cppdet::evaluation {

Rle rle_encode(const uint8_t* mask, uint32_t h, uint32_t w) {
  Rle rle{h, w, {}};
  const uint64_t n = static_cast<uint64_t>(h) * w;
  uint8_t previous = 0;
  uint32_t run = 0;
  for (uint64_t i = 0; i < n; ++i) {
    if (mask[i] != previous) {
      rle.counts.push_back(run);
      run = 0;
      previous = mask[i];
    }
    ++run;
  }
  rle.counts.push_back(run);
  return rle;
}

std::vector<uint8_t> rle_decode(const Rle& rle) {
  const uint64_t n = static_cast<uint64_t>(rle.h) * rle.w;
  std::vector<uint8_t> mask(n, 0);
  uint64_t pos = 0;
  uint8_t value = 0;
  for (uint32_t run : rle.counts) {
    const uint64_t end = std::min<uint64_t>(n, pos + run);
    if (value) std::fill(mask.begin() + static_cast<std::ptrdiff_t>(pos), mask.begin() + static_cast<std::ptrdiff_t>(end), 1);
    pos = end;
    value = !value;
  }
  return mask;
}

std::string rle_to_string(const Rle& rle) {
  std::string s;
  s.reserve(rle.counts.size() * 2);
  for (size_t i = 0; i < rle.counts.size(); ++i) {
    int64_t x = rle.counts[i];
    if (i > 2) x -= static_cast<int64_t>(rle.counts[i - 2]);
    bool more = true;
    while (more) {
      int c = static_cast<int>(x & 0x1f);
      x >>= 5;  // arithmetic shift: negative deltas end with a run of sign groups
      more = (c & 0x10) ? x != -1 : x != 0;
      if (more) c |= 0x20;
      s.push_back(static_cast<char>(c + 48));
    }
  }
  return s;
}

Rle rle_from_string(std::string_view s, uint32_t h, uint32_t w) {
  Rle rle{h, w, {}};
  rle.counts.reserve(s.size());
  size_t p = 0;
  while (p < s.size()) {
    uint64_t x = 0;
    unsigned k = 0;
    bool more = true;
    while (more && p < s.size()) {
      const int c = static_cast<int>(static_cast<signed char>(s[p])) - 48;
      if (5 * k < 64) x |= static_cast<uint64_t>(c & 0x1f) << (5 * k);
      more = (c & 0x20) != 0;
      ++p;
      ++k;
      if (!more && (c & 0x10) && 5 * k < 64) x |= ~uint64_t{0} << (5 * k);  // sign-extend
    }
    const size_t m = rle.counts.size();
    if (m > 2) x += rle.counts[m - 2];
    rle.counts.push_back(static_cast<uint32_t>(x));
  }
  return rle;
}

uint32_t rle_area(const Rle& rle) {
  uint32_t area = 0;
  for (size_t j = 1; j < rle.counts.size(); j += 2) area += rle.counts[j];
  return area;
}

BoxXywh rle_to_bbox(const Rle& rle) {
  const uint32_t h = rle.h, w = rle.w;
  const size_t m = (rle.counts.size() / 2) * 2;  // a trailing run of 0s does not matter
  if (m == 0 || h == 0) return {0, 0, 0, 0};
  uint32_t xs = w, ys = h, xe = 0, ye = 0, cc = 0, xp = 0;
  for (size_t j = 0; j < m; ++j) {
    cc += rle.counts[j];
    const uint32_t t = cc - static_cast<uint32_t>(j % 2);
    const uint32_t y = t % h, x = (t - y) / h;
    if (j % 2 == 0) {
      xp = x;
    } else if (xp < x) {  // a run of 1s wraps into the next column: it spans every row
      ys = 0;
      ye = h - 1;
    }
    xs = std::min(xs, x);
    xe = std::max(xe, x);
    ys = std::min(ys, y);
    ye = std::max(ye, y);
  }
  return {static_cast<double>(xs), static_cast<double>(ys), static_cast<double>(xe - xs + 1),
          static_cast<double>(ye - ys + 1)};
}

namespace {

uint32_t count_at(const std::vector<uint32_t>& counts, size_t i) { return i < counts.size() ? counts[i] : 0; }

// Length of the next common run when walking two RLEs together: min(ca, cb) as maskApi. When
// one side has run out of counts (its counts sum to less than the other's: inconsistent input,
// on which maskApi loops forever) the other side's run is consumed whole, so the walk ends.
uint32_t run_step(uint32_t ca, bool a_more, uint32_t cb, bool b_more) {
  const uint32_t c = std::min(ca, cb);
  if (c == 0 && ((ca == 0 && !a_more) || (cb == 0 && !b_more))) return std::max(ca, cb);
  return c;
}

// One union/intersection step; runs are emitted whenever the combined value changes.
std::vector<uint32_t> merge_two(const std::vector<uint32_t>& a_counts, const std::vector<uint32_t>& b_counts,
                                bool intersect) {
  std::vector<uint32_t> out;
  out.reserve(std::max(a_counts.size(), b_counts.size()) * 2);
  uint32_t ca = count_at(a_counts, 0), cb = count_at(b_counts, 0);
  bool v = false, va = false, vb = false;
  size_t a = 1, b = 1;
  uint32_t cc = 0, ct = 1;
  while (ct > 0) {
    const uint32_t c = run_step(ca, a < a_counts.size(), cb, b < b_counts.size());
    cc += c;
    ct = 0;
    ca -= std::min(ca, c);
    if (!ca && a < a_counts.size()) {
      ca = a_counts[a++];
      va = !va;
    }
    ct += ca;
    cb -= std::min(cb, c);
    if (!cb && b < b_counts.size()) {
      cb = b_counts[b++];
      vb = !vb;
    }
    ct += cb;
    const bool vp = v;
    v = intersect ? (va && vb) : (va || vb);
    if (v != vp || ct == 0) {
      out.push_back(cc);
      cc = 0;
    }
  }
  return out;
}

}  // namespace

Rle rle_merge(const std::vector<const Rle*>& rles, bool intersect) {
  if (rles.empty()) return Rle{};
  Rle out = *rles[0];
  if (rles.size() == 1) return out;
  for (size_t i = 1; i < rles.size(); ++i) {
    if (rles[i]->h != out.h || rles[i]->w != out.w) return Rle{};
    out.counts = merge_two(out.counts, rles[i]->counts, intersect);
  }
  return out;
}

Rle rle_merge(const std::vector<Rle>& rles, bool intersect) {
  std::vector<const Rle*> ptrs;
  ptrs.reserve(rles.size());
  for (const Rle& r : rles) ptrs.push_back(&r);
  return rle_merge(ptrs, intersect);
}

namespace {

// (int)(v + .5) as C computes it (truncation toward zero), kept inside int range.
int round_half_up_trunc(double v) {
  constexpr double lim = 1e9;
  if (!(v > -lim)) return static_cast<int>(-lim);
  if (v > lim) return static_cast<int>(lim);
  return static_cast<int>(v);
}

// Appends the points of one upsampled edge that step 2 of rle_from_polygon can use, in walk
// order. pycocotools emits every point of the DDA walk (d = 0..n); only points whose x lies in
// [0, x_max] and that start or end a run of equal x matter, because consecutive x differ by at
// most 1 and a pair contributes only when x changes inside the image. x(d) is monotone, so the
// in-image range and each run's end are found by binary search: O(w log n) per edge however far
// a (fuzzed or corrupt) vertex lies outside the image.
template <typename PointAt>
void append_edge_points(int64_t n, int64_t x_max, PointAt point_at, std::vector<int>& u, std::vector<int>& v) {
  auto x_at = [&](int64_t d) { return point_at(d).first; };
  const bool increasing = x_at(n) >= x_at(0);
  auto before_image = [&](int64_t d) { return increasing ? x_at(d) < 0 : x_at(d) > x_max; };
  auto in_image = [&](int64_t d) { return x_at(d) >= 0 && x_at(d) <= x_max; };
  // First d in the image, or n + 1 if the edge never enters it.
  int64_t lo = 0, hi = n + 1;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (before_image(mid)) lo = mid + 1;
    else hi = mid;
  }
  for (int64_t d = lo; d <= n && in_image(d);) {
    const int run_x = x_at(d);
    int64_t a = d, b = n;  // last d of this run of equal x
    while (a < b) {
      const int64_t mid = a + (b - a + 1) / 2;
      if (x_at(mid) == run_x) a = mid;
      else b = mid - 1;
    }
    const auto first = point_at(d);
    u.push_back(first.first);
    v.push_back(first.second);
    if (a != d) {
      const auto last = point_at(a);
      u.push_back(last.first);
      v.push_back(last.second);
    }
    d = a + 1;
  }
}

}  // namespace

Rle rle_from_polygon(const double* xy, size_t k, uint32_t h, uint32_t w) {
  // 1. Upsample by 5 and walk every edge with a DDA along its major axis.
  const double scale = 5;
  std::vector<int> x(k + 1), y(k + 1);
  for (size_t j = 0; j < k; ++j) x[j] = round_half_up_trunc(scale * xy[j * 2 + 0] + .5);
  for (size_t j = 0; j < k; ++j) y[j] = round_half_up_trunc(scale * xy[j * 2 + 1] + .5);
  if (k > 0) {
    x[k] = x[0];
    y[k] = y[0];
  }
  const int64_t x_max = static_cast<int64_t>(scale) * w;
  std::vector<int> u, v;
  for (size_t j = 0; j < k; ++j) {
    int64_t xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
    const int64_t dx = std::abs(xe - xs), dy = std::abs(ys - ye);
    const bool flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      std::swap(xs, xe);
      std::swap(ys, ye);
    }
    const double s = dx >= dy ? static_cast<double>(ye - ys) / dx : static_cast<double>(xe - xs) / dy;
    // Point d of the walk (d = 0..n, in pycocotools' emission order).
    if (dx >= dy) {
      append_edge_points(dx, x_max, [&](int64_t d) {
        const int64_t t = flip ? dx - d : d;
        return std::make_pair(static_cast<int>(t + xs), round_half_up_trunc(ys + s * t + .5));
      }, u, v);
    } else {
      append_edge_points(dy, x_max, [&](int64_t d) {
        const int64_t t = flip ? dy - d : d;
        return std::make_pair(round_half_up_trunc(xs + s * t + .5), static_cast<int>(t + ys));
      }, u, v);
    }
  }
  // 2. Keep the points where x changes, mapped back to pixel columns (y-boundary points).
  std::vector<uint32_t> a;
  for (size_t j = 1; j < u.size(); ++j) {
    if (u[j] == u[j - 1]) continue;
    double xd = static_cast<double>(u[j] < u[j - 1] ? u[j] : u[j] - 1);
    xd = (xd + .5) / scale - .5;
    if (std::floor(xd) != xd || xd < 0 || xd > static_cast<double>(w) - 1) continue;
    double yd = static_cast<double>(v[j] < v[j - 1] ? v[j] : v[j - 1]);
    yd = (yd + .5) / scale - .5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    yd = std::ceil(yd);
    a.push_back(static_cast<uint32_t>(static_cast<int>(xd) * static_cast<int>(h) + static_cast<int>(yd)));
  }
  // 3. Sorted boundary indices -> run lengths; zero-length runs fold into the previous run.
  a.push_back(h * w);
  std::sort(a.begin(), a.end());
  uint32_t prev = 0;
  for (uint32_t& t : a) {
    const uint32_t cur = t;
    t -= prev;
    prev = cur;
  }
  Rle rle{h, w, {}};
  size_t j = 0;
  rle.counts.push_back(a[j++]);
  while (j < a.size()) {
    if (a[j] > 0) {
      rle.counts.push_back(a[j++]);
    } else {
      ++j;
      if (j < a.size()) rle.counts.back() += a[j++];
    }
  }
  return rle;
}

Rle rle_from_polygon(const std::vector<double>& xy, uint32_t h, uint32_t w) {
  return rle_from_polygon(xy.data(), xy.size() / 2, h, w);
}

Rle rle_from_bbox(const BoxXywh& box, uint32_t h, uint32_t w) {
  const double xs = box[0], xe = xs + box[2], ys = box[1], ye = ys + box[3];
  const double xy[8] = {xs, ys, xs, ye, xe, ye, xe, ys};
  return rle_from_polygon(xy, 4, h, w);
}

double bbox_iou(const BoxXywh& d, const BoxXywh& g, bool gt_is_crowd) {
  const double w = std::fmin(d[2] + d[0], g[2] + g[0]) - std::fmax(d[0], g[0]);
  if (w <= 0) return 0;
  const double h = std::fmin(d[3] + d[1], g[3] + g[1]) - std::fmax(d[1], g[1]);
  if (h <= 0) return 0;
  const double da = d[2] * d[3];
  const double i = w * h;
  const double u = gt_is_crowd ? da : da + g[2] * g[3] - i;
  return i / u;
}

double rle_iou(const Rle& dt, const BoxXywh& dt_box, const Rle& gt, const BoxXywh& gt_box, bool gt_is_crowd) {
  if (!(bbox_iou(dt_box, gt_box, gt_is_crowd) > 0)) return 0;
  if (dt.h != gt.h || dt.w != gt.w) return -1;
  const auto& A = dt.counts;
  const auto& B = gt.counts;
  uint32_t ca = count_at(A, 0), cb = count_at(B, 0);
  bool va = false, vb = false;
  size_t a = 1, b = 1;
  uint32_t inter = 0, uni = 0, ct = 1;
  while (ct > 0) {
    const uint32_t c = run_step(ca, a < A.size(), cb, b < B.size());
    if (va || vb) {
      uni += c;
      if (va && vb) inter += c;
    }
    ct = 0;
    ca -= std::min(ca, c);
    if (!ca && a < A.size()) {
      ca = A[a++];
      va = !va;
    }
    ct += ca;
    cb -= std::min(cb, c);
    if (!cb && b < B.size()) {
      cb = B[b++];
      vb = !vb;
    }
    ct += cb;
  }
  if (inter == 0) uni = 1;
  else if (gt_is_crowd) uni = rle_area(dt);
  return static_cast<double>(inter) / static_cast<double>(uni);
}

std::vector<std::vector<double>> bbox_iou_matrix(const std::vector<BoxXywh>& dt, const std::vector<BoxXywh>& gt,
                                                 const std::vector<uint8_t>& gt_is_crowd) {
  std::vector<std::vector<double>> out;
  if (dt.empty() || gt.empty()) return out;
  out.assign(dt.size(), std::vector<double>(gt.size(), 0.0));
  for (size_t d = 0; d < dt.size(); ++d)
    for (size_t g = 0; g < gt.size(); ++g) out[d][g] = bbox_iou(dt[d], gt[g], g < gt_is_crowd.size() && gt_is_crowd[g]);
  return out;
}

std::vector<std::vector<double>> rle_iou_matrix(const std::vector<Rle>& dt, const std::vector<Rle>& gt,
                                                const std::vector<uint8_t>& gt_is_crowd) {
  std::vector<std::vector<double>> out;
  if (dt.empty() || gt.empty()) return out;
  std::vector<BoxXywh> db, gb;
  for (const Rle& r : dt) db.push_back(rle_to_bbox(r));
  for (const Rle& r : gt) gb.push_back(rle_to_bbox(r));
  out.assign(dt.size(), std::vector<double>(gt.size(), 0.0));
  for (size_t d = 0; d < dt.size(); ++d)
    for (size_t g = 0; g < gt.size(); ++g)
      out[d][g] = rle_iou(dt[d], db[d], gt[g], gb[g], g < gt_is_crowd.size() && gt_is_crowd[g]);
  return out;
}

}  // namespace cppdet::evaluation
