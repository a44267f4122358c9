#include "cppdet/data/datasets/eval_options.h"

#include "cppdet/core/error.h"

namespace cppdet::data {
namespace {

using config::Value;

std::vector<std::string> strings_of(const Value& v, const std::string& path) {
  if (v.is_string()) return {v.as_string()};
  std::vector<std::string> out;
  if (!v.is_sequence()) throw ConfigError(path + ": expected str or list of str, got " + v.brief());
  for (const Value& item : v.as_sequence()) {
    if (!item.is_string()) throw ConfigError(path + ": expected str or list of str, got " + v.brief());
    out.push_back(item.as_string());
  }
  return out;
}

std::vector<double> numbers_of(const Value& v, const std::string& path) {
  if (v.is_number()) return {v.as_number()};
  std::vector<double> out;
  if (!v.is_sequence()) throw ConfigError(path + ": expected a number or a list of numbers, got " + v.brief());
  for (const Value& item : v.as_sequence()) {
    if (!item.is_number()) throw ConfigError(path + ": expected a number or a list of numbers, got " + v.brief());
    out.push_back(item.as_number());
  }
  return out;
}

}  // namespace

EvalOptions eval_options_from_dict(const config::Dict& kwargs, const std::string& path) {
  EvalOptions o;
  for (size_t i = 0; i < kwargs.size(); ++i) {
    const std::string& key = kwargs.keys()[i];
    const Value& v = kwargs.values()[i];
    const std::string where = path + "." + key;
    if (key == "metric") {
      o.metrics = strings_of(v, where);
    } else if (key == "classwise") {
      if (!v.is_bool()) throw ConfigError(where + ": expected True or False, got " + v.brief());
      o.classwise = v.as_bool();
    } else if (key == "jsonfile_prefix") {
      if (v.is_none()) continue;
      if (!v.is_string()) throw ConfigError(where + ": expected str, got " + v.brief());
      o.jsonfile_prefix = v.as_string();
    } else if (key == "iou_thrs" || key == "iou_thr") {
      if (!v.is_none()) o.iou_thrs = numbers_of(v, where);
    } else if (key == "proposal_nums") {
      o.proposal_nums.clear();
      for (double n : numbers_of(v, where)) {
        if (n <= 0 || n != static_cast<double>(static_cast<int64_t>(n)))
          throw ConfigError(where + ": expected positive ints, got " + v.brief());
        o.proposal_nums.push_back(static_cast<int64_t>(n));
      }
    } else if (key == "metric_items") {
      if (!v.is_none()) o.metric_items = strings_of(v, where);
    } else if (key == "logger") {
      continue;
    } else if (key == "scale_ranges") {
      if (!v.is_none()) throw ConfigError(where + ": scale ranges are not supported");
    } else {
      throw ConfigError(where + ": unknown evaluation option; known: metric, classwise, jsonfile_prefix, iou_thrs, "
                        "iou_thr, proposal_nums, metric_items");
    }
  }
  return o;
}

}  // namespace cppdet::data
