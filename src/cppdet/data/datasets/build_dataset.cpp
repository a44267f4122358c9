#include "cppdet/data/datasets/build_dataset.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/data/datasets/cityscapes_dataset.h"
#include "cppdet/data/datasets/coco_dataset.h"
#include "cppdet/data/datasets/voc_dataset.h"

namespace cppdet::data {
namespace {

using config::ConfigReader;
using config::Value;

std::string joined(const std::string& root, const std::string& p) {
  if (root.empty() || p.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (std::filesystem::path(root) / p).string();
}

std::shared_ptr<DetectionDataset> build_one(const Value& cfg, std::optional<bool> test_mode, const std::string& path) {
  ConfigReader r(cfg, path);
  const std::string type = r.get_string("type");
  DatasetOptions o;
  o.path = path;
  const std::string data_root = r.get_optional("data_root") ? r.get_string("data_root") : "";
  o.ann_file = joined(data_root, r.get_string("ann_file"));
  o.img_prefix = r.get_optional("img_prefix") ? joined(data_root, r.get_string("img_prefix")) : "";
  if (const Value* p = r.get_optional("pipeline")) o.pipeline = *p;
  if (const Value* c = r.get_optional("classes")) o.classes = read_class_names(*c, r.path_of("classes"));
  o.test_mode = test_mode ? *test_mode : r.get_bool("test_mode", false);
  o.filter_empty_gt = r.get_bool("filter_empty_gt", true);
  if (r.get_optional("proposal_file")) throw ConfigError(r.path_of("proposal_file") + ": precomputed proposals are not supported");
  if (r.get_optional("seg_prefix")) r.get_string("seg_prefix");  // semantic maps are not loaded
  if (const Value* f = r.get_optional("file_client_args")) {
    ConfigReader fr(*f, r.path_of("file_client_args"));
    if (fr.get_string("backend", "disk") != "disk") throw ConfigError(fr.path_of("backend") + ": only 'disk' is supported");
    fr.finish();
  }
  r.ignore({"samples_per_gpu", "workers_per_gpu"});  // loader keys some configs put here (test.py pops them)
  std::shared_ptr<DetectionDataset> ds;
  if (type == "CocoDataset" || type == "CityscapesDataset") {
    r.finish();
    if (type == "CocoDataset") ds = CocoDataset::create(std::move(o));
    else ds = CityscapesDataset::create(std::move(o));
  } else if (type == "VOCDataset" || type == "XMLDataset") {
    XmlDataset::XmlOptions x;
    if (r.get_optional("min_size")) x.min_size = r.get_number("min_size");
    x.img_subdir = r.get_string("img_subdir", x.img_subdir);
    x.ann_subdir = r.get_string("ann_subdir", x.ann_subdir);
    r.finish();
    ds = XmlDataset::create(type, std::move(o), std::move(x));
  } else {
    throw ConfigError(path + ".type: unknown dataset '" + type +
                      "'; known: CocoDataset, CityscapesDataset, VOCDataset, XMLDataset (and RepeatDataset, "
                      "ConcatDataset for training)");
  }
  return ds;
}

// A list-valued ann_file: one dataset per file, img_prefix a matching list (or one prefix).
std::vector<Value> split_list_ann_file(const Value& cfg, const std::string& path) {
  const config::Dict& d = cfg.as_dict();
  const config::List& files = d.at("ann_file").as_sequence();
  const Value* prefixes = d.find("img_prefix");
  if (prefixes && prefixes->is_sequence() && prefixes->as_sequence().size() != files.size())
    throw ConfigError(path + ".img_prefix: expected " + std::to_string(files.size()) + " prefixes, one per ann_file");
  std::vector<Value> out;
  for (size_t i = 0; i < files.size(); ++i) {
    Value one = cfg;
    one.as_dict().set("ann_file", files[i]);
    if (prefixes && prefixes->is_sequence()) one.as_dict().set("img_prefix", prefixes->as_sequence()[i]);
    out.push_back(std::move(one));
  }
  return out;
}

TrainDataset build_train(const Value& cfg, const std::string& path) {
  if (!cfg.is_dict()) throw ConfigError(path + ": expected a dataset dict, got " + cfg.type_name());
  const config::Dict& d = cfg.as_dict();
  const Value* type = d.find("type");
  if (type && type->is_string() && type->as_string() == "RepeatDataset") {
    ConfigReader r(cfg, path);
    const int64_t times = r.get_int("times");
    if (times < 1) throw ConfigError(r.path_of("times") + ": must be >= 1");
    TrainDataset inner = build_train(r.get("dataset"), r.path_of("dataset"));
    r.finish();
    return {std::make_shared<RepeatDataset>(inner.dataset, static_cast<size_t>(times)), inner.classes};
  }
  std::vector<std::pair<Value, std::string>> parts;
  if (type && type->is_string() && type->as_string() == "ConcatDataset") {
    ConfigReader r(cfg, path);
    const Value& list = r.get("datasets");
    r.ignore({"separate_eval"});
    r.finish();
    if (!list.is_sequence() || list.as_sequence().empty())
      throw ConfigError(path + ".datasets: expected a non-empty list of dataset dicts");
    for (size_t i = 0; i < list.as_sequence().size(); ++i)
      parts.emplace_back(list.as_sequence()[i], path + ".datasets[" + std::to_string(i) + "]");
  } else if (const Value* ann = d.find("ann_file"); ann && ann->is_sequence()) {
    for (Value& one : split_list_ann_file(cfg, path)) parts.emplace_back(std::move(one), path);
  } else {
    std::shared_ptr<DetectionDataset> ds = build_one(cfg, std::nullopt, path);
    return {ds, ds->classes()};
  }
  std::vector<std::shared_ptr<const IndexedDataset>> datasets;
  std::vector<std::string> classes;
  for (const auto& [part_cfg, part_path] : parts) {
    TrainDataset t = build_train(part_cfg, part_path);
    if (classes.empty()) classes = t.classes;
    datasets.push_back(t.dataset);
  }
  return {std::make_shared<ConcatDataset>(std::move(datasets)), classes};
}

}  // namespace

std::shared_ptr<DetectionDataset> build_dataset(const Value& cfg, bool test_mode, const std::string& path) {
  if (!cfg.is_dict()) throw ConfigError(path + ": expected a dataset dict, got " + cfg.type_name());
  return build_one(cfg, test_mode, path);
}

TrainDataset build_train_dataset(const Value& cfg, const std::string& path) { return build_train(cfg, path); }

ConcatDataset::ConcatDataset(std::vector<std::shared_ptr<const IndexedDataset>> datasets)
    : datasets_(std::move(datasets)) {
  size_t total = 0;
  for (const auto& d : datasets_) offsets_.push_back(total += d->size());
}

std::pair<size_t, size_t> ConcatDataset::locate(size_t index) const {
  const size_t d = static_cast<size_t>(std::upper_bound(offsets_.begin(), offsets_.end(), index) - offsets_.begin());
  if (d >= datasets_.size()) throw std::out_of_range("ConcatDataset: index " + std::to_string(index) + " out of range");
  return {d, index - (d == 0 ? 0 : offsets_[d - 1])};
}

Sample ConcatDataset::get(size_t index, uint64_t rng_seed) const {
  const auto [d, i] = locate(index);
  return datasets_[d]->get(i, rng_seed);
}

uint8_t ConcatDataset::group_flag(size_t index) const {
  const auto [d, i] = locate(index);
  return datasets_[d]->group_flag(i);
}

RepeatDataset::RepeatDataset(std::shared_ptr<const IndexedDataset> dataset, size_t times)
    : dataset_(std::move(dataset)), times_(times) {}

}  // namespace cppdet::data
