#include "cppdet/config/merge.h"

#include <algorithm>
#include <cstdint>

#include "cppdet/config/py_operators.h"
#include "cppdet/config/python_repr.h"
#include "cppdet/core/error.h"

namespace cppdet::config {
namespace {

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

[[noreturn]] void fail(const std::string& path, const std::string& msg) {
  throw ConfigError((path.empty() ? std::string() : path + ": ") + msg);
}

}  // namespace

Value merge_a_into_b(const Value& a, const Value& b, bool allow_list_keys, const std::string& path) {
  if (!b.is_dict() && !b.is_list()) fail(path, "'" + b.type_name() + "' object has no attribute 'copy'");
  Value result = b;
  if (!a.is_dict()) fail(path, "'" + a.type_name() + "' object has no attribute 'items'");
  const Dict& child = a.as_dict();
  for (size_t i = 0; i < child.size(); ++i) {
    const std::string& key = child.keys()[i];
    const Value& v = child.values()[i];
    std::string key_path = join(path, key);
    if (allow_list_keys && all_digits(key) && result.is_list()) {
      List& items = result.as_sequence();
      std::string digits = key.substr(std::min(key.find_first_not_of('0'), key.size() - 1));
      size_t index = digits.size() > 18 ? SIZE_MAX : std::stoull(digits);
      if (index >= items.size()) fail(key_path, "Index " + digits + " exceeds the length of list " + python_repr(result));
      items[index] = merge_a_into_b(v, items[index], allow_list_keys, key_path);
      continue;
    }
    if (result.is_list()) fail(key_path, "list indices must be integers or slices, not str");
    Dict& out = result.as_dict();
    if (!v.is_dict()) {
      out.set(key, v);
      continue;
    }
    const Value* base_value = out.find(key);
    if (!base_value) {  // a new key: taken as-is, `_delete_` included (as mmcv does)
      out.set(key, v);
      continue;
    }
    Value child_dict = v;
    const Value* del = child_dict.as_dict().find("_delete_");
    bool replace = del && py::truthy(*del);
    child_dict.as_dict().erase("_delete_");
    if (replace) {
      out.set(key, std::move(child_dict));
      continue;
    }
    if (!(base_value->is_dict() || (allow_list_keys && base_value->is_list())))
      fail(key_path, key + "=" + python_repr(child_dict) + " in child config cannot inherit from base because " + key +
                         " is a dict in the child config but is of type <class '" + base_value->type_name() +
                         "'> in base config. You may set `_delete_=True` to ignore the base config.");
    Value merged = merge_a_into_b(child_dict, *base_value, allow_list_keys, key_path);
    out.set(key, std::move(merged));
  }
  return result;
}

}  // namespace cppdet::config
