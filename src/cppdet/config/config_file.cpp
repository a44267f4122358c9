// Config.fromfile: one file's text -> its dict, then `_base_` files loaded and merged.
#include "cppdet/config/config_file.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cppdet/config/data_readers.h"
#include "cppdet/config/merge.h"
#include "cppdet/config/py_evaluator.h"
#include "cppdet/core/error.h"

namespace cppdet::config {
namespace {

namespace fs = std::filesystem;

// Replaces a {{_base_.key}} placeholder before parsing; found again after the bases load.
const std::string kBaseRefMarker = "__cppdet_base_ref__:";
using Positions = std::map<std::string, std::pair<int, int>>;

std::string extension_of(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

Value parse_text(const std::string& text, const std::string& filename, Positions* positions) {
  std::string ext = extension_of(filename);
  Value cfg;
  if (ext == ".py" || ext == ".txt") {  // .txt: a dumped config (mmcv's pretty_text) is Python too
    cfg = Value(py::evaluate_module(text, filename, positions));
  } else if (ext == ".json") {
    cfg = read_json_config(text, filename, /*tagged=*/false);
  } else if (ext == ".yaml" || ext == ".yml") {
    cfg = read_yaml_config(text, filename);
  } else {
    throw ConfigError(filename + ": unsupported config file type '" + ext + "' (expected .py, .json, .yaml, .yml, or .txt holding Python)");
  }
  if (cfg.is_none()) cfg = Value(Dict());  // an empty file
  if (!cfg.is_dict()) throw ConfigError(filename + ": a config must be a dict at the top level, got " + cfg.type_name());
  return cfg;
}

// mmcv's textual substitutions before parsing: {{ fileDirname }}, {{ fileBasename }},
// {{ fileBasenameNoExtension }}, {{ fileExtname }}, and {{ _base_.a.b }} -> a quoted marker.
std::string substitute_placeholders(const std::string& text, const fs::path& abs_path, bool& has_base_refs) {
  std::map<std::string, std::string> predefined = {
      {"fileDirname", abs_path.parent_path().string()},
      {"fileBasename", abs_path.filename().string()},
      {"fileBasenameNoExtension", abs_path.stem().string()},
      {"fileExtname", abs_path.extension().string()}};
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("{{", i);
    if (open == std::string::npos) break;
    size_t k = open + 2;
    while (k < text.size() && std::isspace(static_cast<unsigned char>(text[k]))) ++k;
    size_t name_start = k;
    while (k < text.size() && (std::isalnum(static_cast<unsigned char>(text[k])) || text[k] == '_' || text[k] == '.')) ++k;
    std::string name = text.substr(name_start, k - name_start);
    while (k < text.size() && std::isspace(static_cast<unsigned char>(text[k]))) ++k;
    bool closed = text.compare(k, 2, "}}") == 0;
    std::string replacement;
    bool replace = false;
    if (closed && predefined.count(name)) {
      replacement = predefined[name];
      replace = true;
    } else if (closed && name.rfind("_base_.", 0) == 0 && name.size() > 7) {
      replacement = "\"" + kBaseRefMarker + name.substr(7) + "\"";
      has_base_refs = true;
      replace = true;
    }
    if (!replace) {
      out += text.substr(i, open + 2 - i);
      i = open + 2;
      continue;
    }
    out += text.substr(i, open - i) + replacement;
    i = k + 2;
  }
  out += text.substr(std::min(i, text.size()));
  return out;
}

// mmcv's _substitute_base_vars: values equal to a marker become the base's value at that path.
void substitute_base_refs(Value& v, const Dict& base, const std::string& filename) {
  if (v.is_string() && v.as_string().rfind(kBaseRefMarker, 0) == 0) {
    std::string path = v.as_string().substr(kBaseRefMarker.size());
    const Value* cur = nullptr;
    const Dict* d = &base;
    size_t start = 0;
    while (true) {
      size_t dot = path.find('.', start);
      std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      cur = d ? d->find(key) : nullptr;
      if (!cur) throw ConfigError(filename + ": {{_base_." + path + "}}: no key '" + key + "' in the base config");
      if (dot == std::string::npos) break;
      d = cur->is_dict() ? &cur->as_dict() : nullptr;
      start = dot + 1;
    }
    v = *cur;
    return;
  }
  if (v.is_sequence())
    for (Value& item : v.as_sequence()) substitute_base_refs(item, base, filename);
  if (v.is_dict())
    for (Value& item : v.as_dict().values()) substitute_base_refs(item, base, filename);
}

std::string read_file(const std::string& display, const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(display + ": cannot read the config file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string position_of(const std::string& filename, const Positions& positions, const std::string& key) {
  auto it = positions.find(key);
  if (it == positions.end()) return filename;
  return filename + ":" + std::to_string(it->second.first) + ":" + std::to_string(it->second.second);
}

// One file with its bases merged in. `display` names the file in messages; `chain` holds the
// files being loaded (a base that includes itself is reported, not followed).
Value load_file(const std::string& display, std::vector<fs::path>& chain) {
  fs::path abs = fs::absolute(fs::path(display)).lexically_normal();
  for (const fs::path& p : chain) {
    if (p == abs) {
      std::string cycle;
      for (const fs::path& q : chain) cycle += q.filename().string() + " -> ";
      throw ConfigError(display + ": _base_ files include each other: " + cycle + abs.filename().string());
    }
  }
  std::error_code ec;
  if (!fs::is_regular_file(abs, ec)) throw ConfigError(display + ": config file does not exist");
  bool has_base_refs = false;
  std::string text = substitute_placeholders(read_file(display, abs), abs, has_base_refs);
  Positions positions;
  Value cfg = parse_text(text, display, &positions);
  Dict& dict = cfg.as_dict();
  dict.erase("_deprecation_");
  const Value* base_value = dict.find("_base_");
  if (!base_value) {
    if (has_base_refs) throw ConfigError(display + ": {{_base_.xxx}} is used but the file has no _base_");
    return cfg;
  }
  std::string base_where = position_of(display, positions, "_base_");
  std::vector<std::string> base_names;
  if (base_value->is_string()) {
    base_names.push_back(base_value->as_string());
  } else if (base_value->is_list()) {
    for (const Value& b : base_value->as_sequence()) {
      if (!b.is_string()) throw ConfigError(base_where + ": _base_ must be a str or a list of str, found " + b.brief());
      base_names.push_back(b.as_string());
    }
  } else {
    throw ConfigError(base_where + ": _base_ must be a str or a list of str, got " + base_value->type_name());
  }
  dict.erase("_base_");

  chain.push_back(abs);
  Dict combined;
  std::map<std::string, std::string> owner;  // key -> base file that defined it
  for (const std::string& name : base_names) {
    fs::path base_path = fs::path(name).is_absolute() ? fs::path(name) : fs::path(display).parent_path() / name;
    std::string base_display = base_path.lexically_normal().string();
    std::error_code exists_ec;
    if (!fs::is_regular_file(base_path, exists_ec))
      throw ConfigError(base_where + ": _base_ file '" + name + "' does not exist (looked for " + base_display + ")");
    Value base = load_file(base_display, chain);
    const Dict& bd = base.as_dict();
    std::string duplicates;
    for (const std::string& key : bd.keys())
      if (combined.contains(key)) duplicates += (duplicates.empty() ? "" : ", ") + key + " (also in " + owner[key] + ")";
    if (!duplicates.empty())
      throw ConfigError(base_where + ": duplicate key among _base_ files, not allowed: " + duplicates + " in " + name);
    for (size_t i = 0; i < bd.size(); ++i) {
      combined.set(bd.keys()[i], bd.values()[i]);
      owner[bd.keys()[i]] = name;
    }
  }
  chain.pop_back();

  if (has_base_refs) substitute_base_refs(cfg, combined, display);
  try {
    return merge_a_into_b(cfg, Value(std::move(combined)), /*allow_list_keys=*/false);
  } catch (const ConfigError& e) {
    throw ConfigError(display + ": " + e.what());
  }
}

}  // namespace

Value parse_config_text(const std::string& text, const std::string& filename) {
  return parse_text(text, filename, nullptr);
}

Value load_config(const std::string& path, const std::vector<std::string>& cfg_options) {
  std::vector<fs::path> chain;
  Value cfg = load_file(path, chain);
  for (const char* reserved : {"filename", "text", "pretty_text"})
    if (cfg.as_dict().contains(reserved))
      throw ConfigError(path + ": '" + reserved + "' is reserved for config file (mmcv) and cannot be a config key");
  if (!cfg_options.empty()) merge_cfg_options(cfg, parse_cfg_options(cfg_options));
  return cfg;
}

Value merge_into_base(const Value& child, const Value& base, const std::string& where) {
  try {
    return merge_a_into_b(child, base, /*allow_list_keys=*/false);
  } catch (const ConfigError& e) {
    throw ConfigError(where.empty() ? std::string(e.what()) : where + ": " + e.what());
  }
}

}  // namespace cppdet::config
