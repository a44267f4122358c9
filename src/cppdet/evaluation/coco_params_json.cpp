#include "cppdet/evaluation/coco_params_json.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>

#include "cppdet/core/error.h"

namespace cppdet::evaluation {
namespace {

using nlohmann::json;

double number_of(const json& v, const std::string& where) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return d;
  }
  throw UserError(where + ": expected a number (or a hex-float string), got " + v.dump());
}

std::vector<double> numbers_of(const json& v, const std::string& where) {
  if (!v.is_array()) throw UserError(where + ": expected a list of numbers, got " + v.dump());
  std::vector<double> out;
  for (size_t i = 0; i < v.size(); ++i) out.push_back(number_of(v[i], where + "[" + std::to_string(i) + "]"));
  return out;
}

std::vector<int64_t> integers_of(const json& v, const std::string& where) {
  std::vector<int64_t> out;
  for (double d : numbers_of(v, where)) {
    if (std::floor(d) != d || std::fabs(d) > 9e18) throw UserError(where + ": expected integers, got " + v.dump());
    out.push_back(static_cast<int64_t>(d));
  }
  return out;
}

}  // namespace

CocoEvalParams apply_params_json(std::string_view text, const std::string& what, CocoEvalParams p) {
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    throw UserError(what + ": malformed JSON: " + e.what());
  }
  if (!j.is_object()) throw UserError(what + ": expected a JSON object of COCOeval params");
  for (const auto& [key, v] : j.items()) {
    const std::string where = what + ": " + key;
    if (key == "useCats") {
      if (!v.is_boolean() && !v.is_number()) throw UserError(where + ": expected 0/1 or a boolean");
      p.use_cats = v.is_boolean() ? v.get<bool>() : v.get<double>() != 0;
    } else if (key == "maxDets") {
      p.max_dets = integers_of(v, where);
    } else if (key == "iouThrs") {
      p.iou_thrs = numbers_of(v, where);
    } else if (key == "recThrs") {
      p.rec_thrs = numbers_of(v, where);
    } else if (key == "catIds") {
      p.cat_ids = integers_of(v, where);
    } else if (key == "imgIds") {
      p.img_ids = integers_of(v, where);
    } else if (key == "areaRng") {
      if (!v.is_array()) throw UserError(where + ": expected a list of [lo, hi] pairs");
      p.area_rng.clear();
      for (size_t i = 0; i < v.size(); ++i) {
        const auto r = numbers_of(v[i], where + "[" + std::to_string(i) + "]");
        if (r.size() != 2) throw UserError(where + "[" + std::to_string(i) + "]: expected [lo, hi]");
        p.area_rng.push_back({r[0], r[1]});
      }
    } else if (key == "areaRngLbl") {
      if (!v.is_array()) throw UserError(where + ": expected a list of labels");
      p.area_rng_lbl.clear();
      for (const json& s : v) {
        if (!s.is_string()) throw UserError(where + ": expected strings, got " + s.dump());
        p.area_rng_lbl.push_back(s.get<std::string>());
      }
    } else if (key == "iouType") {
      if (v != "bbox" && v != "segm") throw UserError(where + ": expected \"bbox\" or \"segm\"");
      p.iou_type = v == "segm" ? IouType::kSegm : IouType::kBbox;
    } else {
      throw UserError(where + ": unknown COCOeval param (known: useCats, maxDets, areaRng, areaRngLbl, iouThrs, "
                              "recThrs, catIds, imgIds, iouType)");
    }
  }
  return p;
}

}  // namespace cppdet::evaluation
