#include "cppdet/evaluation/coco_json.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>

#include "cppdet/core/error.h"
#include "cppdet/evaluation/json_events.h"

namespace cppdet::evaluation {

std::vector<std::vector<double>> CocoAnnotationStore::polygons(const CocoAnnotation& ann) const {
  std::vector<std::vector<double>> rings;
  if (ann.segmentation != SegmentationKind::kPolygons) return rings;
  for (uint64_t r = ann.seg_begin; r < ann.seg_begin + ann.seg_size; ++r)
    rings.emplace_back(coords.begin() + static_cast<std::ptrdiff_t>(ring_begin[r]),
                       coords.begin() + static_cast<std::ptrdiff_t>(ring_end(r)));
  return rings;
}

Rle CocoAnnotationStore::to_rle(const CocoAnnotation& ann, uint32_t image_h, uint32_t image_w) const {
  switch (ann.segmentation) {
    case SegmentationKind::kPolygons: {
      std::vector<Rle> rings;
      rings.reserve(ann.seg_size);
      for (uint64_t r = ann.seg_begin; r < ann.seg_begin + ann.seg_size; ++r) {
        const uint64_t b = ring_begin[r];
        rings.push_back(rle_from_polygon(coords.data() + b, (ring_end(r) - b) / 2, image_h, image_w));
      }
      if (rings.empty()) return rle_from_polygon(nullptr, 0, image_h, image_w);
      return rle_merge(rings, /*intersect=*/false);
    }
    case SegmentationKind::kRleCounts: {
      Rle rle{ann.rle_h, ann.rle_w, {}};
      rle.counts.assign(counts.begin() + static_cast<std::ptrdiff_t>(ann.seg_begin),
                        counts.begin() + static_cast<std::ptrdiff_t>(ann.seg_begin + ann.seg_size));
      return rle;
    }
    case SegmentationKind::kRleString:
      return rle_from_string(std::string_view(chars).substr(ann.seg_begin, ann.seg_size), ann.rle_h, ann.rle_w);
    case SegmentationKind::kBoxPolygon:
      return rle_from_bbox(ann.bbox, image_h, image_w);
    case SegmentationKind::kNone:
      break;
  }
  return Rle{image_h, image_w, {image_h * image_w}};
}

int64_t CocoGroundTruth::image_index(int64_t image_id) const {
  auto it = image_by_id_.find(image_id);
  return it == image_by_id_.end() ? -1 : it->second;
}

int64_t CocoGroundTruth::category_index(int64_t category_id) const {
  auto it = category_by_id_.find(category_id);
  return it == category_by_id_.end() ? -1 : it->second;
}

void CocoGroundTruth::build_index() {
  image_by_id_.clear();
  category_by_id_.clear();
  image_by_id_.reserve(images.size());
  for (size_t i = 0; i < images.size(); ++i) image_by_id_.emplace(images[i].id, static_cast<int64_t>(i));
  for (size_t i = 0; i < categories.size(); ++i) category_by_id_.emplace(categories[i].id, static_cast<int64_t>(i));
}

namespace {

using nlohmann::json;

// Where the parser is; one entry per open JSON container.
enum class Where : uint8_t {
  kTop,          // the top-level object (ground truth)
  kSection,      // the "images" / "annotations" / "categories" array, or a results file's array
  kRecord,       // one element of a section
  kBbox,         // record.bbox
  kPolygonList,  // record.segmentation as a list of rings
  kRing,         // one ring
  kRle,          // record.segmentation as {"size", "counts"}
  kRleSize,      // segmentation.size
  kRleCounts,    // segmentation.counts as a list
  kSkip,         // a value nobody reads
};

enum class Section : uint8_t { kNone, kImages, kAnnotations, kCategories };

enum class Field : uint8_t {
  kOther, kId, kImageId, kCategoryId, kBbox, kArea, kIscrowd, kIgnore, kScore, kSegmentation,
  kWidth, kHeight, kFileName, kName, kSupercategory, kSize, kCounts,
};

Field field_of(const std::string& key) {
  static const std::unordered_map<std::string, Field> fields = {
      {"id", Field::kId},           {"image_id", Field::kImageId},   {"category_id", Field::kCategoryId},
      {"bbox", Field::kBbox},       {"area", Field::kArea},          {"iscrowd", Field::kIscrowd},
      {"ignore", Field::kIgnore},   {"score", Field::kScore},        {"segmentation", Field::kSegmentation},
      {"width", Field::kWidth},     {"height", Field::kHeight},      {"file_name", Field::kFileName},
      {"name", Field::kName},       {"supercategory", Field::kSupercategory}, {"size", Field::kSize},
      {"counts", Field::kCounts},
  };
  auto it = fields.find(key);
  return it == fields.end() ? Field::kOther : it->second;
}

const char* field_name(Field f) {
  switch (f) {
    case Field::kId: return "id";
    case Field::kImageId: return "image_id";
    case Field::kCategoryId: return "category_id";
    case Field::kBbox: return "bbox";
    case Field::kArea: return "area";
    case Field::kIscrowd: return "iscrowd";
    case Field::kIgnore: return "ignore";
    case Field::kScore: return "score";
    case Field::kSegmentation: return "segmentation";
    case Field::kWidth: return "width";
    case Field::kHeight: return "height";
    case Field::kFileName: return "file_name";
    case Field::kName: return "name";
    case Field::kSupercategory: return "supercategory";
    case Field::kSize: return "size";
    case Field::kCounts: return "counts";
    case Field::kOther: break;
  }
  return "?";
}

// Streams a COCO ground-truth object or a results array into typed records.
class CocoSaxHandler : public nlohmann::json_sax<json> {
 public:
  CocoSaxHandler(const std::string& source, bool results_file) : source_(source), results_file_(results_file) {}

  std::vector<CocoImage> images;
  std::vector<CocoCategory> categories;
  CocoAnnotationStore store;
  bool saw_images = false, saw_annotations = false, saw_categories = false;

  bool null() override { return scalar(Kind::kNull, 0, nullptr); }
  bool boolean(bool v) override { return scalar(Kind::kBool, v ? 1 : 0, nullptr); }
  bool number_integer(number_integer_t v) override { return scalar(Kind::kNumber, static_cast<double>(v), nullptr, v); }
  bool number_unsigned(number_unsigned_t v) override {
    return scalar(Kind::kNumber, static_cast<double>(v), nullptr,
                  v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                                   : static_cast<int64_t>(v));
  }
  bool number_float(number_float_t v, const string_t&) override { return scalar(Kind::kFloat, v, nullptr); }
  bool string(string_t& v) override { return scalar(Kind::kString, 0, &v); }
  bool binary(binary_t&) override { return scalar(Kind::kNull, 0, nullptr); }

  bool start_object(std::size_t) override {
    if (stack_.empty()) {
      if (results_file_)
        fail_top("a JSON object; a results file is a JSON array of detections");
      stack_.push_back(Where::kTop);
      return true;
    }
    const Where w = stack_.back();
    if (w == Where::kSection) {
      begin_record();
      stack_.push_back(Where::kRecord);
    } else if (w == Where::kRecord && field_ == Field::kSegmentation && section_ == Section::kAnnotations) {
      CocoAnnotation& a = store.annotations.back();
      a.segmentation = SegmentationKind::kRleCounts;  // refined by "counts"
      a.seg_begin = store.counts.size();
      a.seg_size = 0;
      rle_has_size_ = rle_has_counts_ = false;
      stack_.push_back(Where::kRle);
    } else {
      if (w == Where::kTop && section_ != Section::kNone) not_a_list();
      if (w != Where::kTop && w != Where::kRecord && w != Where::kRle && w != Where::kSkip) type_error("an object");
      if (w == Where::kRecord && field_is_read()) type_error("an object");
      stack_.push_back(Where::kSkip);
    }
    return true;
  }

  bool end_object() override {
    const Where w = stack_.back();
    stack_.pop_back();
    if (w == Where::kRle) {
      if (!rle_has_size_ || !rle_has_counts_) fail_record("segmentation: an RLE needs both \"size\" and \"counts\"");
    }
    if (!stack_.empty()) field_ = Field::kOther;
    return true;
  }

  bool start_array(std::size_t) override {
    if (stack_.empty()) {
      if (!results_file_)
        fail_top("a JSON array; a COCO annotation file is an object with \"images\", \"annotations\" and \"categories\"");
      section_ = Section::kAnnotations;
      stack_.push_back(Where::kSection);
      return true;
    }
    const Where w = stack_.back();
    if (w == Where::kTop && section_ != Section::kNone) {
      stack_.push_back(Where::kSection);
    } else if (w == Where::kRecord && section_ == Section::kAnnotations && field_ == Field::kBbox) {
      bbox_n_ = 0;
      stack_.push_back(Where::kBbox);
    } else if (w == Where::kRecord && section_ == Section::kAnnotations && field_ == Field::kSegmentation) {
      CocoAnnotation& a = store.annotations.back();
      a.segmentation = SegmentationKind::kPolygons;
      a.seg_begin = store.ring_begin.size();
      a.seg_size = 0;
      stack_.push_back(Where::kPolygonList);
    } else if (w == Where::kPolygonList) {
      store.ring_begin.push_back(store.coords.size());
      ++store.annotations.back().seg_size;
      stack_.push_back(Where::kRing);
    } else if (w == Where::kRle && field_ == Field::kSize) {
      size_n_ = 0;
      stack_.push_back(Where::kRleSize);
    } else if (w == Where::kRle && field_ == Field::kCounts) {
      CocoAnnotation& a = store.annotations.back();
      a.segmentation = SegmentationKind::kRleCounts;
      a.seg_begin = store.counts.size();
      a.seg_size = 0;
      rle_has_counts_ = true;
      stack_.push_back(Where::kRleCounts);
    } else {
      if (w == Where::kSection || w == Where::kBbox || w == Where::kRing || w == Where::kRleSize ||
          w == Where::kRleCounts)
        type_error("an array");
      if (w == Where::kRecord && field_is_read()) type_error("an array");
      stack_.push_back(Where::kSkip);
    }
    return true;
  }

  bool end_array() override {
    const Where w = stack_.back();
    stack_.pop_back();
    switch (w) {
      case Where::kSection: section_ = Section::kNone; break;
      case Where::kBbox:
        if (bbox_n_ == 4) store.annotations.back().has_bbox = true;
        else if (bbox_n_ != 0) fail_record("bbox: expected [x, y, w, h], got " + std::to_string(bbox_n_) + " numbers");
        break;
      case Where::kRleSize:
        if (size_n_ != 2) fail_record("segmentation.size: expected [height, width]");
        rle_has_size_ = true;
        break;
      default: break;
    }
    if (!stack_.empty() && (w == Where::kSection || w == Where::kBbox || w == Where::kPolygonList ||
                            w == Where::kRleSize || w == Where::kRleCounts || w == Where::kSkip))
      field_ = Field::kOther;
    return true;
  }

  bool key(string_t& k) override {
    const Where w = stack_.back();
    if (w == Where::kTop) {
      section_ = Section::kNone;
      if (k == "images") { section_ = Section::kImages; saw_images = true; }
      else if (k == "annotations") { section_ = Section::kAnnotations; saw_annotations = true; }
      else if (k == "categories") { section_ = Section::kCategories; saw_categories = true; }
    } else if (w == Where::kRecord || w == Where::kRle) {
      field_ = field_of(k);
    }
    return true;
  }

  // Syntax errors are reported by parse_json_events; this is only part of the SAX interface.
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    throw FileFormatError(source_ + ": malformed JSON (byte " + std::to_string(position) + "): " + ex.what());
  }

 private:
  enum class Kind { kNull, kBool, kNumber, kFloat, kString };

  [[noreturn]] void fail_top(const std::string& got) {
    throw FileFormatError(source_ + ": not a COCO " + std::string(results_file_ ? "results" : "annotation") +
                          " file: the top-level value is " + got);
  }

  std::string record_path() const {
    const char* sec = results_file_ ? "results" : section_ == Section::kImages ? "images"
                                                 : section_ == Section::kCategories ? "categories" : "annotations";
    return std::string(sec) + "[" + std::to_string(record_index_) + "]";
  }

  [[noreturn]] void fail_record(const std::string& what) {
    throw FileFormatError(source_ + ": " + record_path() + "." + what);
  }

  [[noreturn]] void type_error(const std::string& got) {
    if (stack_.back() == Where::kSection)
      throw FileFormatError(source_ + ": " + record_path() + ": expected an object, got " + got);
    fail_record(std::string(field_name(field_)) + ": unexpected value (got " + got + ")");
  }

  void begin_record() {
    record_index_ = section_count_[static_cast<int>(section_)]++;
    switch (section_) {
      case Section::kImages: images.emplace_back(); break;
      case Section::kCategories: categories.emplace_back(); break;
      case Section::kAnnotations: store.annotations.emplace_back(); break;
      case Section::kNone: break;
    }
    field_ = Field::kOther;
  }

  // Whether the current key of a record is one this loader stores (others are skipped).
  bool field_is_read() const {
    switch (section_) {
      case Section::kImages:
        return field_ == Field::kId || field_ == Field::kWidth || field_ == Field::kHeight || field_ == Field::kFileName;
      case Section::kCategories:
        return field_ == Field::kId || field_ == Field::kName || field_ == Field::kSupercategory;
      case Section::kAnnotations:
        return field_ == Field::kId || field_ == Field::kImageId || field_ == Field::kCategoryId ||
               field_ == Field::kBbox || field_ == Field::kArea || field_ == Field::kIscrowd ||
               field_ == Field::kIgnore || field_ == Field::kScore || field_ == Field::kSegmentation;
      case Section::kNone: break;
    }
    return false;
  }

  [[noreturn]] void not_a_list() {
    throw FileFormatError(source_ + ": not a COCO annotation file: \"" +
                          std::string(section_ == Section::kImages       ? "images"
                                      : section_ == Section::kCategories ? "categories"
                                                                         : "annotations") +
                          "\" is not a list");
  }

  int64_t as_id(Kind kind, double v, int64_t iv) {
    if (kind == Kind::kNumber) return iv;
    if (kind == Kind::kFloat && std::isfinite(v) && std::floor(v) == v && std::fabs(v) < 9.2e18) return static_cast<int64_t>(v);
    fail_record(std::string(field_name(field_)) + ": expected an integer id");
  }

  double as_number(Kind kind, double v) {
    if (kind == Kind::kNumber || kind == Kind::kFloat) return v;
    fail_record(std::string(field_name(field_)) + ": expected a number");
  }

  bool as_flag(Kind kind, double v) {
    if (kind == Kind::kBool || kind == Kind::kNumber || kind == Kind::kFloat) return v != 0;
    fail_record(std::string(field_name(field_)) + ": expected 0/1 or a boolean");
  }

  static uint32_t as_u32(double v) {
    if (!(v >= 0)) return 0;
    if (v >= 4294967295.0) return 4294967295u;
    return static_cast<uint32_t>(v);
  }

  bool scalar(Kind kind, double v, std::string* s, int64_t iv = 0) {
    if (stack_.empty()) fail_top("a single value");
    switch (stack_.back()) {
      case Where::kTop:
        if (section_ != Section::kNone) not_a_list();
        return true;
      case Where::kSection: type_error(kind == Kind::kString ? "a string" : "a scalar");
      case Where::kRecord: record_scalar(kind, v, s, iv); return true;
      case Where::kBbox:
        if (bbox_n_ < 4) store.annotations.back().bbox[bbox_n_] = as_number(kind, v);
        ++bbox_n_;
        if (bbox_n_ > 4) fail_record("bbox: expected [x, y, w, h], got more than 4 numbers");
        return true;
      case Where::kRing:
        store.coords.push_back(as_number(kind, v));
        return true;
      case Where::kPolygonList: fail_record("segmentation: expected a list of polygons (lists of numbers)");
      case Where::kRle:
        if (field_ == Field::kSize) fail_record("segmentation.size: expected [height, width]");
        if (field_ == Field::kCounts) {
          if (kind != Kind::kString) fail_record("segmentation.counts: expected a string or a list of numbers");
          CocoAnnotation& a = store.annotations.back();
          a.segmentation = SegmentationKind::kRleString;
          a.seg_begin = store.chars.size();
          a.seg_size = static_cast<uint32_t>(s->size());
          store.chars += *s;
          rle_has_counts_ = true;
        }
        return true;
      case Where::kRleSize: {
        const double d = as_number(kind, v);
        if (d < 0 || d > 1e9 || std::floor(d) != d) fail_record("segmentation.size: expected non-negative integers");
        CocoAnnotation& a = store.annotations.back();
        if (size_n_ == 0) a.rle_h = static_cast<uint32_t>(d);
        else if (size_n_ == 1) a.rle_w = static_cast<uint32_t>(d);
        ++size_n_;
        return true;
      }
      case Where::kRleCounts: {
        const double d = as_number(kind, v);
        if (d < 0 || std::floor(d) != d) fail_record("segmentation.counts: expected non-negative integers");
        store.counts.push_back(as_u32(d));
        ++store.annotations.back().seg_size;
        return true;
      }
      case Where::kSkip: return true;
    }
    return true;
  }

  void record_scalar(Kind kind, double v, std::string* s, int64_t iv) {
    if (field_ == Field::kOther || kind == Kind::kNull) return;
    switch (section_) {
      case Section::kImages: {
        CocoImage& im = images.back();
        if (field_ == Field::kId) im.id = as_id(kind, v, iv);
        else if (field_ == Field::kWidth) im.width = static_cast<int32_t>(std::clamp(as_number(kind, v), -1e9, 1e9));
        else if (field_ == Field::kHeight) im.height = static_cast<int32_t>(std::clamp(as_number(kind, v), -1e9, 1e9));
        else if (field_ == Field::kFileName && kind == Kind::kString) im.file_name = std::move(*s);
        return;
      }
      case Section::kCategories: {
        CocoCategory& c = categories.back();
        if (field_ == Field::kId) c.id = as_id(kind, v, iv);
        else if (field_ == Field::kName && kind == Kind::kString) c.name = std::move(*s);
        else if (field_ == Field::kSupercategory && kind == Kind::kString) c.supercategory = std::move(*s);
        return;
      }
      case Section::kAnnotations: {
        CocoAnnotation& a = store.annotations.back();
        switch (field_) {
          case Field::kId: a.id = as_id(kind, v, iv); break;
          case Field::kImageId: a.image_id = as_id(kind, v, iv); break;
          case Field::kCategoryId: a.category_id = as_id(kind, v, iv); break;
          case Field::kArea: a.area = as_number(kind, v); a.has_area = true; break;
          case Field::kScore: a.score = as_number(kind, v); a.has_score = true; break;
          case Field::kIscrowd: a.iscrowd = as_flag(kind, v); break;
          case Field::kIgnore: a.ignore = as_flag(kind, v); break;
          case Field::kBbox: fail_record("bbox: expected [x, y, w, h]");
          case Field::kSegmentation: fail_record("segmentation: expected polygons or an RLE object");
          default: break;
        }
        return;
      }
      case Section::kNone: return;
    }
  }

  const std::string& source_;
  bool results_file_;
  std::vector<Where> stack_;
  Section section_ = Section::kNone;
  Field field_ = Field::kOther;
  size_t section_count_[4] = {0, 0, 0, 0};
  size_t record_index_ = 0;
  int bbox_n_ = 0, size_n_ = 0;
  bool rle_has_size_ = false, rle_has_counts_ = false;
};

void run_sax(std::string_view text, const std::string& source, CocoSaxHandler& handler) {
  parse_json_events(text, handler, source);
}

std::string read_whole_file(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw FileFormatError(path + ": cannot open file");
  std::string data;
  if (std::fseek(f.get(), 0, SEEK_END) == 0) {
    const long size = std::ftell(f.get());
    if (size > 0) data.reserve(static_cast<size_t>(size));
    std::fseek(f.get(), 0, SEEK_SET);
  }
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) data.append(buf, n);
  if (std::ferror(f.get())) throw FileFormatError(path + ": read error");
  return data;
}

// Reserves pool capacity from the file size so that big files do not pay for repeated
// reallocation and copying. Only touched pages become resident, so over-reserving is cheap.
void reserve_for(std::string_view text, CocoAnnotationStore& store) {
  store.coords.reserve(text.size() / 8);
  store.annotations.reserve(text.size() / 512);
  store.ring_begin.reserve(text.size() / 512);
}

}  // namespace

CocoGroundTruth parse_coco_ground_truth(std::string_view text, const std::string& source) {
  CocoSaxHandler handler(source, /*results_file=*/false);
  reserve_for(text, handler.store);
  run_sax(text, source, handler);
  if (!handler.saw_images)
    throw FileFormatError(source + ": not a COCO annotation file: no \"images\" list");
  CocoGroundTruth gt;
  gt.source = source;
  gt.images = std::move(handler.images);
  gt.categories = std::move(handler.categories);
  gt.store = std::move(handler.store);
  gt.build_index();
  return gt;
}

CocoGroundTruth load_coco_ground_truth(const std::string& path) {
  const std::string text = read_whole_file(path);
  return parse_coco_ground_truth(text, path);
}

CocoResults make_coco_results(CocoAnnotationStore records, const std::string& source, const CocoGroundTruth& gt) {
  CocoResults res;
  res.source = source;
  res.store = std::move(records);
  auto& dets = res.store.annotations;
  for (size_t i = 0; i < dets.size(); ++i) {
    if (gt.image_index(dets[i].image_id) < 0)
      throw FileFormatError(source + ": results[" + std::to_string(i) + "]: image_id " + std::to_string(dets[i].image_id) +
                            " is not an image of the ground truth " + gt.source);
    if (!dets[i].has_score) throw FileFormatError(source + ": results[" + std::to_string(i) + "]: no \"score\"");
  }
  res.from_boxes = dets.empty() || dets[0].has_bbox;
  if (!res.from_boxes && dets[0].segmentation == SegmentationKind::kNone)
    throw FileFormatError(source + ": results[0]: a detection needs a \"bbox\" or a \"segmentation\"");
  for (size_t i = 0; i < dets.size(); ++i) {
    CocoAnnotation& d = dets[i];
    const std::string where = source + ": results[" + std::to_string(i) + "]";
    if (res.from_boxes) {
      if (!d.has_bbox) throw FileFormatError(where + ": no \"bbox\" (the first result has one, so all need one)");
      if (d.segmentation == SegmentationKind::kNone) d.segmentation = SegmentationKind::kBoxPolygon;
      d.area = d.bbox[2] * d.bbox[3];
    } else {
      if (d.segmentation != SegmentationKind::kRleString && d.segmentation != SegmentationKind::kRleCounts)
        throw FileFormatError(where + ": segmentation results must be RLE objects {\"size\", \"counts\"}");
      const Rle rle = res.store.to_rle(d, d.rle_h, d.rle_w);
      d.area = rle_area(rle);
      if (!d.has_bbox) {
        d.bbox = rle_to_bbox(rle);
        d.has_bbox = true;
      }
    }
    d.has_area = true;
    d.id = static_cast<int64_t>(i) + 1;
    d.iscrowd = false;
  }
  return res;
}

CocoResults parse_coco_results(std::string_view text, const std::string& source, const CocoGroundTruth& gt) {
  CocoSaxHandler handler(source, /*results_file=*/true);
  run_sax(text, source, handler);
  return make_coco_results(std::move(handler.store), source, gt);
}

CocoResults load_coco_results(const std::string& path, const CocoGroundTruth& gt) {
  const std::string text = read_whole_file(path);
  return parse_coco_results(text, path, gt);
}

}  // namespace cppdet::evaluation
