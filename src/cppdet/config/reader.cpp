#include "cppdet/config/reader.h"

#include "cppdet/core/error.h"

namespace cppdet::config {

ConfigReader::ConfigReader(const Value& node, std::string path) : dict_(node.as_dict()), path_(std::move(path)) {
  used_.insert("type");
}

std::string ConfigReader::path_of(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

void ConfigReader::fail(const std::string& key, const std::string& what) const {
  throw ConfigError(path_of(key) + ": " + what);
}

bool ConfigReader::has(const std::string& key) const { return dict_.contains(key); }

const Value& ConfigReader::get(const std::string& key) {
  const Value* v = dict_.find(key);
  if (!v) fail(key, "required key is missing");
  used_.insert(key);
  return *v;
}

const Value* ConfigReader::get_optional(const std::string& key) {
  const Value* v = dict_.find(key);
  used_.insert(key);
  return (v && !v->is_none()) ? v : nullptr;
}

int64_t ConfigReader::get_int(const std::string& key) {
  const Value& v = get(key);
  if (!v.is_int()) fail(key, "expected int, got " + v.type_name() + " " + v.brief());
  return v.as_int();
}

double ConfigReader::get_number(const std::string& key) {
  const Value& v = get(key);
  if (!v.is_number()) fail(key, "expected number, got " + v.type_name() + " " + v.brief());
  return v.as_number();
}

bool ConfigReader::get_bool(const std::string& key) {
  const Value& v = get(key);
  if (!v.is_bool()) fail(key, "expected bool, got " + v.type_name() + " " + v.brief());
  return v.as_bool();
}

std::string ConfigReader::get_string(const std::string& key) {
  const Value& v = get(key);
  if (!v.is_string()) fail(key, "expected str, got " + v.type_name() + " " + v.brief());
  return v.as_string();
}

std::vector<int64_t> ConfigReader::get_ints(const std::string& key) {
  const Value& v = get(key);
  if (!v.is_sequence()) fail(key, "expected list of ints, got " + v.type_name() + " " + v.brief());
  std::vector<int64_t> out;
  for (const Value& item : v.as_sequence()) {
    if (!item.is_int()) fail(key, "expected list of ints, got element " + item.type_name() + " " + item.brief());
    out.push_back(item.as_int());
  }
  return out;
}

std::vector<double> ConfigReader::get_numbers(const std::string& key) {
  const Value& v = get(key);
  if (!v.is_sequence()) fail(key, "expected list of numbers, got " + v.type_name() + " " + v.brief());
  std::vector<double> out;
  for (const Value& item : v.as_sequence()) {
    if (!item.is_number())
      fail(key, "expected list of numbers, got element " + item.type_name() + " " + item.brief());
    out.push_back(item.as_number());
  }
  return out;
}

std::vector<std::string> ConfigReader::get_strings(const std::string& key) {
  const Value& v = get(key);
  if (!v.is_sequence()) fail(key, "expected list of str, got " + v.type_name() + " " + v.brief());
  std::vector<std::string> out;
  for (const Value& item : v.as_sequence()) {
    if (!item.is_string()) fail(key, "expected list of str, got element " + item.type_name() + " " + item.brief());
    out.push_back(item.as_string());
  }
  return out;
}

int64_t ConfigReader::get_int(const std::string& key, int64_t fallback) {
  return get_optional(key) ? get_int(key) : fallback;
}
double ConfigReader::get_number(const std::string& key, double fallback) {
  return get_optional(key) ? get_number(key) : fallback;
}
bool ConfigReader::get_bool(const std::string& key, bool fallback) {
  return get_optional(key) ? get_bool(key) : fallback;
}
std::string ConfigReader::get_string(const std::string& key, const std::string& fallback) {
  return get_optional(key) ? get_string(key) : fallback;
}
std::vector<int64_t> ConfigReader::get_ints(const std::string& key, std::vector<int64_t> fallback) {
  return get_optional(key) ? get_ints(key) : fallback;
}
std::vector<double> ConfigReader::get_numbers(const std::string& key, std::vector<double> fallback) {
  return get_optional(key) ? get_numbers(key) : fallback;
}

std::vector<int64_t> ConfigReader::get_int_or_ints(const std::string& key, size_t count) {
  const Value& v = get(key);
  if (v.is_int()) return std::vector<int64_t>(count, v.as_int());
  std::vector<int64_t> out = get_ints(key);
  if (out.size() != count) fail(key, "expected an int or " + std::to_string(count) + " ints, got " + v.brief());
  return out;
}

void ConfigReader::ignore(std::initializer_list<const char*> keys) {
  for (const char* k : keys) used_.insert(k);
}

void ConfigReader::finish() const {
  std::string unknown;
  for (const std::string& key : dict_.keys()) {
    if (!used_.count(key)) unknown += (unknown.empty() ? "" : ", ") + key;
  }
  if (!unknown.empty()) throw ConfigError(path_ + ": unknown key(s): " + unknown);
}

}  // namespace cppdet::config
