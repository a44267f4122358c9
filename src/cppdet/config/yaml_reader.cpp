#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cctype>
#include <cerrno>
#include <regex>

#include "cppdet/config/data_readers.h"
#include "cppdet/config/py_operators.h"
#include "cppdet/core/error.h"

namespace cppdet::config {
namespace {

constexpr int kMaxNesting = 100;

std::string where(const std::string& filename, const YAML::Mark& mark) {
  if (mark.is_null()) return filename;
  return filename + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

// PyYAML's implicit resolver for plain scalars (YAML 1.1).
Value resolve_plain(const std::string& s) {
  static const std::regex null_re("~|null|Null|NULL|");
  static const std::regex bool_re("yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF");
  static const std::regex int_re("[-+]?(0b[0-1_]+|0[0-7_]+|(0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+)");
  static const std::regex float_re(
      "[-+]?([0-9][0-9_]*)\\.[0-9_]*([eE][-+][0-9]+)?|\\.[0-9_]+([eE][-+][0-9]+)?|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)");
  if (std::regex_match(s, null_re)) return Value();
  if (std::regex_match(s, bool_re)) {
    char c = s[0];
    return Value(c == 'y' || c == 'Y' || c == 't' || c == 'T' || ((c == 'o' || c == 'O') && (s[1] == 'n' || s[1] == 'N')));
  }
  if (std::regex_match(s, int_re)) {
    std::string t;
    for (char c : s)
      if (c != '_') t += c;
    bool negative = t[0] == '-';
    if (t[0] == '-' || t[0] == '+') t = t.substr(1);
    int base = 10;
    if (t.rfind("0b", 0) == 0) {
      base = 2;
      t = t.substr(2);
    } else if (t.rfind("0x", 0) == 0) {
      base = 16;
      t = t.substr(2);
    } else if (t.size() > 1 && t[0] == '0') {
      base = 8;
    }
    errno = 0;
    long long v = std::strtoll(t.c_str(), nullptr, base);
    if (errno == ERANGE) return Value(s);
    return Value(static_cast<int64_t>(negative ? -v : v));
  }
  if (std::regex_match(s, float_re)) {
    std::string t;
    for (char c : s)
      if (c != '_') t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (t.find("inf") != std::string::npos) return Value(t[0] == '-' ? -HUGE_VAL : HUGE_VAL);
    if (t.find("nan") != std::string::npos) return Value(std::nan(""));
    return Value(std::strtod(t.c_str(), nullptr));
  }
  return Value(s);
}

Value from_yaml(const YAML::Node& n, const std::string& filename, int depth) {
  if (depth > kMaxNesting)
    throw ConfigError(where(filename, n.Mark()) + ": YAML nested deeper than " + std::to_string(kMaxNesting) + " levels");
  const std::string& tag = n.Tag();
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: return Value();
    case YAML::NodeType::Scalar:
      if (tag == "!" || tag == "tag:yaml.org,2002:str") return Value(n.Scalar());
      return resolve_plain(n.Scalar());
    case YAML::NodeType::Sequence: {
      List items;
      for (const YAML::Node& e : n) items.push_back(from_yaml(e, filename, depth + 1));
      if (tag == "tag:yaml.org,2002:python/tuple") return Value::tuple(std::move(items));
      return Value::list(std::move(items));
    }
    case YAML::NodeType::Map: {
      Dict d;
      for (const auto& kv : n) {
        Value key = from_yaml(kv.first, filename, depth + 1);
        if (!key.is_string())
          throw ConfigError(where(filename, kv.first.Mark()) + ": mapping key " + key.brief() + " is not a string");
        d.set(key.as_string(), from_yaml(kv.second, filename, depth + 1));
      }
      return Value(std::move(d));
    }
  }
  return Value();
}

}  // namespace

Value read_yaml_config(const std::string& text, const std::string& filename) {
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.size() > 1) throw ConfigError(filename + ": expected a single YAML document, found " + std::to_string(docs.size()));
    if (docs.empty()) return Value();
    return from_yaml(docs[0], filename, 0);
  } catch (const YAML::Exception& e) {
    throw ConfigError(where(filename, e.mark) + ": YAML error: " + e.msg);
  }
}

}  // namespace cppdet::config
