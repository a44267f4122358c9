#include "cppdet/data/converters/via_to_coco.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

#include "cppdet/core/error.h"

namespace cppdet::data::converters {
namespace {

namespace fs = std::filesystem;

// A coordinate that stays an integer in the output while all its inputs are integers.
struct Num {
  double v = 0;
  bool is_int = false;
};

OrderedJson to_json(Num n) { return n.is_int ? OrderedJson(static_cast<int64_t>(n.v)) : OrderedJson(n.v); }
Num sub(Num a, Num b) { return {a.v - b.v, a.is_int && b.is_int}; }
Num mul(Num a, Num b) { return {a.v * b.v, a.is_int && b.is_int}; }
Num add(Num a, Num b) { return {a.v + b.v, a.is_int && b.is_int}; }

struct Region {
  std::vector<Num> xs, ys;  // raw outline points
};

// Where a region comes from, for messages: `<file>: image "<name>" region <key>`.
struct RegionContext {
  const std::string& via_json;
  const std::string& filename;
  const std::string& key;
  std::string where() const { return via_json + ": image \"" + filename + "\" region " + key; }
};

const OrderedJson& member(const OrderedJson& obj, const char* key, const RegionContext& ctx) {
  if (!obj.is_object() || !obj.contains(key))
    throw FileFormatError(ctx.where() + ": missing \"" + key + "\" in shape_attributes");
  return obj.at(key);
}

Num number(const OrderedJson& obj, const char* key, const RegionContext& ctx) {
  const OrderedJson& v = member(obj, key, ctx);
  if (!v.is_number()) throw FileFormatError(ctx.where() + ": \"" + key + "\" must be a number");
  return {v.get<double>(), v.is_number_integer()};
}

std::vector<Num> number_list(const OrderedJson& obj, const char* key, const RegionContext& ctx) {
  const OrderedJson& v = member(obj, key, ctx);
  if (!v.is_array()) throw FileFormatError(ctx.where() + ": \"" + key + "\" must be a list of numbers");
  std::vector<Num> out;
  for (const OrderedJson& e : v) {
    if (!e.is_number()) throw FileFormatError(ctx.where() + ": \"" + key + "\" must be a list of numbers");
    out.push_back({e.get<double>(), e.is_number_integer()});
  }
  return out;
}

Region ellipse_outline(double cx, double cy, double rx, double ry, double theta) {
  Region r;
  const double c = std::cos(theta), s = std::sin(theta);
  for (int k = 0; k < kEllipsePoints; ++k) {
    const double a = 2.0 * M_PI * k / kEllipsePoints;
    const double ex = rx * std::cos(a), ey = ry * std::sin(a);
    r.xs.push_back({cx + ex * c - ey * s, false});
    r.ys.push_back({cy + ex * s + ey * c, false});
  }
  return r;
}

Region region_outline(const OrderedJson& region, const RegionContext& ctx) {
  if (!region.is_object() || !region.contains("shape_attributes") || !region["shape_attributes"].is_object())
    throw FileFormatError(ctx.where() + ": missing \"shape_attributes\"");
  const OrderedJson& shape = region["shape_attributes"];
  if (!shape.contains("name") || !shape["name"].is_string())
    throw FileFormatError(ctx.where() + ": shape_attributes has no \"name\"");
  const std::string name = shape["name"].get<std::string>();
  Region r;
  if (name == "polygon") {
    r.xs = number_list(shape, "all_points_x", ctx);
    r.ys = number_list(shape, "all_points_y", ctx);
    if (r.xs.size() != r.ys.size())
      throw FileFormatError(ctx.where() + ": all_points_x has " + std::to_string(r.xs.size()) +
                            " values but all_points_y has " + std::to_string(r.ys.size()));
    if (r.xs.size() < 3)
      throw FileFormatError(ctx.where() + ": a polygon needs at least 3 points, got " + std::to_string(r.xs.size()));
  } else if (name == "rect") {
    const Num x = number(shape, "x", ctx), y = number(shape, "y", ctx);
    const Num x2 = add(x, number(shape, "width", ctx)), y2 = add(y, number(shape, "height", ctx));
    r.xs = {x, x2, x2, x};
    r.ys = {y, y, y2, y2};
  } else if (name == "circle") {
    const double radius = number(shape, "r", ctx).v;
    r = ellipse_outline(number(shape, "cx", ctx).v, number(shape, "cy", ctx).v, radius, radius, 0.0);
  } else if (name == "ellipse") {
    const double theta = shape.contains("theta") ? number(shape, "theta", ctx).v : 0.0;
    r = ellipse_outline(number(shape, "cx", ctx).v, number(shape, "cy", ctx).v, number(shape, "rx", ctx).v,
                        number(shape, "ry", ctx).v, theta);
  } else {
    throw FileFormatError(ctx.where() + ": shape \"" + name +
                          "\" has no area and cannot become a COCO instance (supported: polygon, rect, circle, ellipse)");
  }
  return r;
}

OrderedJson annotation(const Region& r, int64_t image_id, int64_t ann_id) {
  OrderedJson poly = OrderedJson::array();
  for (size_t i = 0; i < r.xs.size(); ++i) {
    poly.push_back(r.xs[i].v + 0.5);
    poly.push_back(r.ys[i].v + 0.5);
  }
  auto by_value = [](Num a, Num b) { return a.v < b.v; };
  const Num x_min = *std::min_element(r.xs.begin(), r.xs.end(), by_value);
  const Num x_max = *std::max_element(r.xs.begin(), r.xs.end(), by_value);
  const Num y_min = *std::min_element(r.ys.begin(), r.ys.end(), by_value);
  const Num y_max = *std::max_element(r.ys.begin(), r.ys.end(), by_value);
  const Num w = sub(x_max, x_min), h = sub(y_max, y_min);
  OrderedJson a;
  a["image_id"] = image_id;
  a["id"] = ann_id;
  a["category_id"] = 0;
  a["bbox"] = OrderedJson::array({to_json(x_min), to_json(y_min), to_json(w), to_json(h)});
  a["area"] = to_json(mul(w, h));
  a["segmentation"] = OrderedJson::array({poly});
  a["iscrowd"] = 0;
  return a;
}

}  // namespace

OrderedJson via_to_coco(const ViaToCocoOptions& options) {
  const std::string& path = options.via_json;
  const OrderedJson via = read_json_file(path);
  const OrderedJson& entries = via.is_object() && via.contains("_via_img_metadata") ? via["_via_img_metadata"] : via;
  if (!entries.is_object())
    throw FileFormatError(path + ": not a VIA region file (expected a JSON object of images)");
  if (entries.empty()) throw FileFormatError(path + ": the VIA file lists no images");

  // Validate every entry and collect its regions before touching the images.
  struct Entry {
    std::string filename;
    std::vector<Region> regions;
  };
  std::vector<Entry> images;
  for (const auto& [key, v] : entries.items()) {
    if (!v.is_object() || !v.contains("filename") || !v["filename"].is_string())
      throw FileFormatError(path + ": entry \"" + key + "\" has no \"filename\"");
    Entry e{v["filename"].get<std::string>(), {}};
    if (!v.contains("regions")) throw FileFormatError(path + ": image \"" + e.filename + "\" has no \"regions\"");
    const OrderedJson& regions = v["regions"];
    if (!regions.is_object() && !regions.is_array())
      throw FileFormatError(path + ": image \"" + e.filename + "\": \"regions\" must be a dict or a list");
    for (const auto& [rkey, region] : regions.items()) {
      const RegionContext ctx{path, e.filename, rkey};
      e.regions.push_back(region_outline(region, ctx));
    }
    images.push_back(std::move(e));
  }

  std::vector<ImageSize> sizes(images.size());
  run_with_progress(images.size(), options.num_threads, [&](size_t i) {
    sizes[i] = read_image_size((fs::path(options.image_dir) / images[i].filename).string(), true);
  });

  OrderedJson coco;
  coco["images"] = OrderedJson::array();
  coco["annotations"] = OrderedJson::array();
  int64_t ann_id = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    OrderedJson img;
    img["id"] = static_cast<int64_t>(i);
    img["file_name"] = images[i].filename;
    img["height"] = sizes[i].height;
    img["width"] = sizes[i].width;
    coco["images"].push_back(std::move(img));
    for (const Region& r : images[i].regions) coco["annotations"].push_back(annotation(r, static_cast<int64_t>(i), ann_id++));
  }
  coco["categories"] = OrderedJson::array({OrderedJson{{"id", 0}, {"name", options.category}}});
  return coco;
}

}  // namespace cppdet::data::converters
