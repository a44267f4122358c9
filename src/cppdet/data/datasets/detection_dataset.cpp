#include "cppdet/data/datasets/detection_dataset.h"

#include <algorithm>
#include <fstream>
#include <random>

#include "cppdet/core/error.h"
#include "cppdet/data/transforms/compose.h"
#include "cppdet/data/transforms/random.h"

namespace cppdet::data {

std::vector<std::string> read_class_names(const config::Value& classes, const std::string& path) {
  std::vector<std::string> names;
  if (classes.is_string()) {
    std::ifstream in(classes.as_string());
    if (!in) throw FileFormatError(path + ": cannot read the class-name file " + classes.as_string());
    std::string line;
    while (std::getline(in, line)) {
      const size_t b = line.find_first_not_of(" \t\r\n"), e = line.find_last_not_of(" \t\r\n");
      names.push_back(b == std::string::npos ? "" : line.substr(b, e - b + 1));
    }
    // mmcv.list_from_file drops nothing but the newline; a trailing empty line is no class.
    while (!names.empty() && names.back().empty()) names.pop_back();
  } else if (classes.is_sequence()) {
    for (const config::Value& item : classes.as_sequence()) {
      if (!item.is_string()) throw ConfigError(path + ": expected class names (str), got " + item.brief());
      names.push_back(item.as_string());
    }
  } else {
    throw ConfigError(path + ": expected a list of class names or a file name, got " + classes.brief());
  }
  return names;
}

DetectionDataset::DetectionDataset(std::string type, std::vector<std::string> default_classes, DatasetOptions options)
    : type_(std::move(type)), options_(std::move(options)) {
  classes_ = options_.classes ? *options_.classes : std::move(default_classes);
  if (classes_.empty()) throw ConfigError(options_.path + ".classes: " + type_ + " needs class names");
  if (!options_.pipeline.is_none())
    pipeline_ = build_compose(options_.pipeline, options_.path + ".pipeline");
}

DetectionDataset::~DetectionDataset() = default;

void DetectionDataset::finish_loading(std::vector<ImageInfo> images) {
  if (!options_.test_mode) {
    std::vector<ImageInfo> kept;
    for (size_t i : filter_images(images)) kept.push_back(std::move(images[i]));
    images = std::move(kept);
  }
  images_ = std::move(images);
  flags_.resize(images_.size());
  for (size_t i = 0; i < images_.size(); ++i)
    flags_[i] = images_[i].height > 0 && static_cast<double>(images_[i].width) / static_cast<double>(images_[i].height) > 1;
}

std::vector<size_t> DetectionDataset::filter_images(const std::vector<ImageInfo>& images) const {
  std::vector<size_t> kept;
  for (size_t i = 0; i < images.size(); ++i)
    if (std::min(images[i].width, images[i].height) >= 32) kept.push_back(i);
  return kept;
}

uint8_t DetectionDataset::group_flag(size_t index) const { return flags_.at(index); }

Sample DetectionDataset::raw_sample(size_t index) const {
  const ImageInfo& info = images_.at(index);
  Sample s;
  s.img_prefix = options_.img_prefix;
  s.img_file = info.filename;
  if (!options_.test_mode) s.ann_info = std::make_shared<const AnnInfo>(ann_info(index));
  return s;
}

std::vector<Sample> DetectionDataset::prepare(size_t index, uint64_t rng_seed) const {
  seed_transform_rng(rng_seed);
  Sample s = raw_sample(index);
  if (!pipeline_) {
    std::vector<Sample> out;
    out.push_back(std::move(s));
    return out;
  }
  return (*pipeline_)(std::move(s));
}

Sample DetectionDataset::get(size_t index, uint64_t rng_seed) const {
  std::mt19937_64 rng(rng_seed ^ 0x9e3779b97f4a7c15ULL);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    std::vector<Sample> out = prepare(index, rng_seed + static_cast<uint64_t>(attempt));
    if (!out.empty()) return std::move(out.front());
    if (options_.test_mode) break;
    std::vector<size_t> pool;
    for (size_t i = 0; i < flags_.size(); ++i)
      if (flags_[i] == flags_[index]) pool.push_back(i);
    index = pool[std::uniform_int_distribution<size_t>(0, pool.size() - 1)(rng)];
  }
  throw UserError(type_ + ": the pipeline dropped image '" + images_.at(index).filename +
                  "' (and every replacement drawn for it)");
}

std::vector<std::string> DetectionDataset::format_results(const std::vector<ImageDetections>&,
                                                          const std::string&) const {
  throw UserError(type_ + " has no result file format (format_results is for COCO-style datasets)");
}

void DetectionDataset::check_results(const std::vector<ImageDetections>& results) const {
  if (results.size() != images_.size())
    throw UserError("the results hold " + std::to_string(results.size()) + " images but the " + type_ + " of " +
                    options_.ann_file + " has " + std::to_string(images_.size()));
  for (size_t i = 0; i < results.size(); ++i)
    if (results[i].num_classes() != classes_.size())
      throw UserError("the results of image " + std::to_string(i) + " ('" + images_[i].filename + "') have " +
                      std::to_string(results[i].num_classes()) + " classes but the dataset has " +
                      std::to_string(classes_.size()));
}

}  // namespace cppdet::data
