// --cfg-options: mmcv 1.x's DictAction value parsing and Config.merge_from_dict.
#include <algorithm>

#include "cppdet/config/config_file.h"
#include "cppdet/config/merge.h"
#include "cppdet/config/py_operators.h"
#include "cppdet/core/error.h"

namespace cppdet::config {
namespace {

constexpr int kMaxBracketNesting = 100;

// DictAction._parse_int_float_bool: int(), then float(), then true/false in any case,
// then exactly "None", else the string itself.
Value parse_scalar(const std::string& text) {
  int64_t i;
  double f;
  try {
    if (py::python_int_from_string(text, i)) return Value(i);
  } catch (const py::OperatorError& e) {
    throw ConfigError(std::string("--cfg-options: ") + e.what());
  }
  if (py::python_float_from_string(text, f)) return Value(f);
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "true") return Value(true);
  if (lower == "false") return Value(false);
  if (text == "None") return Value();
  return Value(text);
}

bool ends_with(const std::string& s, char c) { return !s.empty() && s.back() == c; }

// Index of the first ',' at which the text before it has balanced () and [] counts (the end
// when none); the whole text's counts must balance (mmcv asserts this).
size_t find_next_comma(const std::string& s) {
  auto count = [&](char c, size_t end) { return std::count(s.begin(), s.begin() + end, c); };
  if (count('(', s.size()) != count(')', s.size()) || count('[', s.size()) != count(']', s.size()))
    throw ConfigError("--cfg-options: Imbalanced brackets exist in " + s);
  long paren = 0, square = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == ',' && paren == 0 && square == 0) return i;
    if (c == '(') ++paren;
    if (c == ')') --paren;
    if (c == '[') ++square;
    if (c == ']') --square;
  }
  return s.size();
}

// DictAction._parse_iterable.
Value parse_iterable(std::string val, int depth) {
  if (depth > kMaxBracketNesting) throw ConfigError("--cfg-options: value nested too deeply");
  // Strip surrounding quote characters, then remove every space.
  size_t b = val.find_first_not_of("'\"");
  val = b == std::string::npos ? "" : val.substr(b, val.find_last_not_of("'\"") - b + 1);
  val.erase(std::remove(val.begin(), val.end(), ' '), val.end());
  bool is_tuple = false;
  if (!val.empty() && val.front() == '(' && ends_with(val, ')')) {
    is_tuple = true;
    val = val.substr(1, val.size() - 2);
  } else if (!val.empty() && val.front() == '[' && ends_with(val, ']')) {
    val = val.substr(1, val.size() - 2);
  } else if (val.find(',') == std::string::npos) {
    return parse_scalar(val);
  }
  List values;
  while (!val.empty()) {
    size_t comma = find_next_comma(val);
    values.push_back(parse_iterable(val.substr(0, comma), depth + 1));
    val = comma < val.size() ? val.substr(comma + 1) : "";
  }
  return is_tuple ? Value::tuple(std::move(values)) : Value::list(std::move(values));
}

}  // namespace

Dict parse_cfg_options(const std::vector<std::string>& options) {
  Dict out;
  for (const std::string& kv : options) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) throw ConfigError("--cfg-options: expected KEY=VALUE, got '" + kv + "'");
    out.set(kv.substr(0, eq), parse_iterable(kv.substr(eq + 1), 0));
  }
  return out;
}

void merge_cfg_options(Value& cfg, const Dict& options) {
  // "a.b.c" -> {"a": {"b": {"c": v}}}, grouping keys by prefix in first-seen order.
  Value nested{Dict()};
  for (size_t i = 0; i < options.size(); ++i) {
    const std::string& full_key = options.keys()[i];
    Dict* d = &nested.as_dict();
    size_t start = 0;
    while (true) {
      size_t dot = full_key.find('.', start);
      std::string part = full_key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (dot == std::string::npos) {
        d->set(part, options.values()[i]);
        break;
      }
      Value* sub = d->find(part);
      if (!sub) {
        d->set(part, Value(Dict()));
        sub = d->find(part);
      }
      if (!sub->is_dict())
        throw ConfigError("--cfg-options " + full_key + ": '" + full_key.substr(0, dot) +
                          "' is also given a non-dict value by another option");
      d = &sub->as_dict();
      start = dot + 1;
    }
  }
  try {
    cfg = merge_a_into_b(nested, cfg, /*allow_list_keys=*/true);
  } catch (const ConfigError& e) {
    throw ConfigError(std::string("--cfg-options ") + e.what());
  }
}

}  // namespace cppdet::config
