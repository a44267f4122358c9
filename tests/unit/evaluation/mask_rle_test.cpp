// The mask API against pycocotools' outputs in tests/fixtures/coco/maskapi_cases.json
// (encodings byte for byte, IoUs and areas exactly).
#include "cppdet/evaluation/mask_rle.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

#include "support/test_support.h"

namespace cppdet::evaluation {
namespace {

using nlohmann::json;

const json& cases() {
  static const json j = [] {
    std::ifstream in(cppdet::testing::fixture("coco/maskapi_cases.json"));
    return json::parse(in);
  }();
  return j;
}

// {"size": [h, w], "counts": "..." | [..]} -> Rle
Rle rle_of(const json& obj) {
  const uint32_t h = obj["size"][0].get<uint32_t>(), w = obj["size"][1].get<uint32_t>();
  if (obj["counts"].is_string()) return rle_from_string(obj["counts"].get<std::string>(), h, w);
  return Rle{h, w, obj["counts"].get<std::vector<uint32_t>>()};
}

BoxXywh box_of(const json& j) { return {j[0].get<double>(), j[1].get<double>(), j[2].get<double>(), j[3].get<double>()}; }

// Checks counts, compressed string, area and box of one expected RLE record.
void expect_rle(const Rle& got, const json& want, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(got.h, want["size"][0].get<uint32_t>());
  EXPECT_EQ(got.w, want["size"][1].get<uint32_t>());
  if (want.contains("counts")) EXPECT_EQ(got.counts, want["counts"].get<std::vector<uint32_t>>());
  EXPECT_EQ(rle_to_string(got), want["counts_string"].get<std::string>());
  if (want.contains("area")) EXPECT_EQ(rle_area(got), want["area"].get<uint32_t>());
  if (want.contains("bbox")) EXPECT_EQ(rle_to_bbox(got), box_of(want["bbox"]));
}

// np.packbits of the row-major mask, as hex.
std::string rowmajor_bits_hex(const std::vector<uint8_t>& colmajor, uint32_t h, uint32_t w) {
  std::string hex;
  unsigned byte = 0, nbits = 0;
  auto flush = [&] {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", byte);
    hex += b;
    byte = 0;
    nbits = 0;
  };
  for (uint32_t y = 0; y < h; ++y)
    for (uint32_t x = 0; x < w; ++x) {
      byte = (byte << 1) | colmajor[static_cast<size_t>(x) * h + y];
      if (++nbits == 8) flush();
    }
  if (nbits) {
    byte <<= (8 - nbits);
    flush();
  }
  return hex;
}

TEST(MaskRle, EncodeDecodeStringAreaBboxMatchPycocotools) {
  const json& masks = cases()["masks"];
  ASSERT_GT(masks.size(), 20u);
  for (const json& m : masks) {
    const std::string name = m["name"].get<std::string>();
    SCOPED_TRACE(name);
    const Rle rle{m["size"][0].get<uint32_t>(), m["size"][1].get<uint32_t>(), m["counts"].get<std::vector<uint32_t>>()};
    expect_rle(rle, m, name);
    const Rle parsed = rle_from_string(m["counts_string"].get<std::string>(), rle.h, rle.w);
    EXPECT_EQ(parsed.counts, rle.counts);
    const std::vector<uint8_t> mask = rle_decode(rle);
    if (m.contains("mask_rowmajor_bits_hex"))  // small masks only
      EXPECT_EQ(rowmajor_bits_hex(mask, rle.h, rle.w), m["mask_rowmajor_bits_hex"].get<std::string>());
    EXPECT_EQ(rle_encode(mask.data(), rle.h, rle.w).counts, rle.counts);
  }
}

TEST(MaskRle, PolygonsRasteriseExactlyAsFrPyObjects) {
  for (const json& c : cases()["polygons"]) {
    const std::string name = c["name"].get<std::string>();
    const uint32_t h = c["h"].get<uint32_t>(), w = c["w"].get<uint32_t>();
    std::vector<Rle> parts;
    for (size_t i = 0; i < c["polys"].size(); ++i) {
      parts.push_back(rle_from_polygon(c["polys"][i].get<std::vector<double>>(), h, w));
      expect_rle(parts.back(), c["per_polygon"][i], name + " ring " + std::to_string(i));
    }
    expect_rle(rle_merge(parts, false), c["merged"], name + " merged");
  }
}

TEST(MaskRle, BoxesRasteriseAsFrBbox) {
  const json& b = cases()["boxes"];
  for (size_t i = 0; i < b["boxes"].size(); ++i)
    expect_rle(rle_from_bbox(box_of(b["boxes"][i]), b["h"].get<uint32_t>(), b["w"].get<uint32_t>()), b["rles"][i], "box " + std::to_string(i));
}

// pycocotools' rleFrPoly walk, point by point: the reference for polygons whose vertices lie
// far outside the image, where rle_from_polygon skips the points that cannot matter.
std::vector<uint8_t> naive_polygon_mask(const std::vector<double>& xy, uint32_t h, uint32_t w) {
  const size_t k = xy.size() / 2;
  std::vector<int> x(k + 1), y(k + 1), u, v;
  for (size_t j = 0; j < k; ++j) x[j] = static_cast<int>(5 * xy[2 * j] + .5), y[j] = static_cast<int>(5 * xy[2 * j + 1] + .5);
  x[k] = x[0], y[k] = y[0];
  for (size_t j = 0; j < k; ++j) {
    int xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
    const int dx = std::abs(xe - xs), dy = std::abs(ys - ye);
    const bool flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) std::swap(xs, xe), std::swap(ys, ye);
    const double s = dx >= dy ? static_cast<double>(ye - ys) / dx : static_cast<double>(xe - xs) / dy;
    for (int d = 0; d <= std::max(dx, dy); ++d) {
      const int t = flip ? std::max(dx, dy) - d : d;
      if (dx >= dy) u.push_back(t + xs), v.push_back(static_cast<int>(ys + s * t + .5));
      else v.push_back(t + ys), u.push_back(static_cast<int>(xs + s * t + .5));
    }
  }
  std::vector<uint32_t> a;
  for (size_t j = 1; j < u.size(); ++j) {
    if (u[j] == u[j - 1]) continue;
    const double xd = (static_cast<double>(u[j] < u[j - 1] ? u[j] : u[j] - 1) + .5) / 5 - .5;
    if (std::floor(xd) != xd || xd < 0 || xd > w - 1.0) continue;
    const double yd = std::ceil(std::clamp((std::min(v[j], v[j - 1]) + .5) / 5 - .5, 0.0, static_cast<double>(h)));
    a.push_back(static_cast<uint32_t>(xd) * h + static_cast<uint32_t>(yd));
  }
  // Column-major pixels; each boundary index toggles the value from there on.
  std::vector<uint8_t> mask(static_cast<size_t>(h) * w, 0);
  for (uint32_t b : a)
    if (b < mask.size()) mask[b] ^= 1;
  for (size_t p = 1; p < mask.size(); ++p) mask[p] ^= mask[p - 1];
  return mask;
}

TEST(MaskRle, PolygonsFarOutsideTheImageRasteriseAsTheFullWalk) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> coord(-400, 440);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<double> xy;
    const int n = 3 + trial % 6;
    for (int i = 0; i < 2 * n; ++i) xy.push_back(coord(rng));
    const std::vector<uint8_t> want = naive_polygon_mask(xy, 30, 40);
    const Rle got = rle_from_polygon(xy, 30, 40);
    ASSERT_EQ(rle_decode(got), want) << "trial " << trial;
  }
  // Vertices a billion pixels away are clamped and walked in O(image width), not O(distance).
  const Rle huge = rle_from_polygon(std::vector<double>{-1e12, -1e12, 1e12, 5, 5, 1e12}, 30, 40);
  EXPECT_EQ(huge.h, 30u);
}

TEST(MaskRle, BoxIouWithCrowd) {
  const json& c = cases()["bbox_iou"];
  std::vector<BoxXywh> dt, gt;
  for (const json& d : c["dt"]) dt.push_back(box_of(d));
  for (const json& g : c["gt"]) gt.push_back(box_of(g));
  const auto iou = bbox_iou_matrix(dt, gt, c["iscrowd"].get<std::vector<uint8_t>>());
  EXPECT_EQ(iou, c["iou"].get<std::vector<std::vector<double>>>());
}

TEST(MaskRle, MaskIouMergeAreaGroups) {
  for (const json& g : cases()["iou_groups"]) {
    std::vector<Rle> dt, gt;
    for (const json& d : g["dt"]) dt.push_back(rle_of(d));
    for (const json& x : g["gt"]) gt.push_back(rle_of(x));
    const auto crowd = g["iscrowd"].get<std::vector<uint8_t>>();
    EXPECT_EQ(rle_iou_matrix(dt, gt, crowd), g["iou"].get<std::vector<std::vector<double>>>());
    EXPECT_EQ(rle_iou_matrix(dt, gt, std::vector<uint8_t>(gt.size(), 0)),
              g["iou_nocrowd"].get<std::vector<std::vector<double>>>());
    for (size_t d = 0; d < dt.size(); ++d) {
      EXPECT_EQ(rle_area(dt[d]), g["dt_area"][d].get<uint32_t>());
      EXPECT_EQ(rle_to_bbox(dt[d]), box_of(g["dt_bbox"][d]));
    }
    for (size_t x = 0; x < gt.size(); ++x) EXPECT_EQ(rle_area(gt[x]), g["gt_area"][x].get<uint32_t>());
    expect_rle(rle_merge(dt, false), g["merge_union_all_dt"], "union all");
    expect_rle(rle_merge(dt, true), g["merge_intersect_all_dt"], "intersect all");
    expect_rle(rle_merge(std::vector<Rle>{dt[0], dt[1]}, false), g["merge_union_dt01"], "union 01");
    expect_rle(rle_merge(std::vector<Rle>{dt[0], dt[1]}, true), g["merge_intersect_dt01"], "intersect 01");
    expect_rle(rle_merge(std::vector<Rle>{dt[0]}, false), g["merge_single"], "single");
  }
}

TEST(MaskRle, EdgeCases) {
  const json& e = cases()["edge"];
  {
    std::vector<Rle> in;
    for (const json& r : e["merge_size_mismatch"]["inputs"]) in.push_back(rle_of(r));
    const Rle out = rle_merge(in, false);
    EXPECT_EQ(out.h, 0u);
    EXPECT_EQ(out.w, 0u);
    EXPECT_EQ(rle_to_string(out), e["merge_size_mismatch"]["result"]["counts_string"].get<std::string>());
  }
  {
    const json& c = e["iou_size_mismatch"];
    const auto iou = rle_iou_matrix({rle_of(c["dt"][0])}, {rle_of(c["gt"][0])}, c["iscrowd"].get<std::vector<uint8_t>>());
    EXPECT_EQ(iou, c["iou"].get<std::vector<std::vector<double>>>());
  }
  EXPECT_TRUE(rle_iou_matrix({}, {Rle{2, 2, {4}}}, {0}).empty());
  {
    const json& c = e["noncanonical_counts"];
    expect_rle(Rle{c["size"][0].get<uint32_t>(), c["size"][1].get<uint32_t>(), c["counts"].get<std::vector<uint32_t>>()}, c,
               "noncanonical");
  }
}

TEST(MaskRle, StringRoundTripOfLargeAndNegativeDeltas) {
  const Rle rle{1000, 1000, {0, 999999, 1, 0, 5, 123456, 3, 7}};
  EXPECT_EQ(rle_from_string(rle_to_string(rle), 1000, 1000).counts, rle.counts);
}

TEST(MaskRle, DecodeIsSafeOnInconsistentCounts) {
  const Rle too_long{2, 2, {1, 10}};
  EXPECT_EQ(rle_decode(too_long), (std::vector<uint8_t>{0, 1, 1, 1}));
  const Rle too_short{2, 2, {1, 1}};
  EXPECT_EQ(rle_decode(too_short), (std::vector<uint8_t>{0, 1, 0, 0}));
}

}  // namespace
}  // namespace cppdet::evaluation
