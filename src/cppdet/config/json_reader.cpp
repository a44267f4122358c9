#include <cmath>
#include <nlohmann/json.hpp>

#include "cppdet/config/data_readers.h"
#include "cppdet/core/error.h"

namespace cppdet::config {
namespace {

constexpr int kMaxNesting = 100;
using Json = nlohmann::ordered_json;

Value from_json(const Json& j, const std::string& filename, bool tagged, int depth) {
  if (depth > kMaxNesting) throw ConfigError(filename + ": JSON nested deeper than " + std::to_string(kMaxNesting) + " levels");
  switch (j.type()) {
    case Json::value_t::null: return Value();
    case Json::value_t::boolean: return Value(j.get<bool>());
    case Json::value_t::number_integer: return Value(j.get<int64_t>());
    case Json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) throw ConfigError(filename + ": integer " + std::to_string(u) + " is too large");
      return Value(static_cast<int64_t>(u));
    }
    case Json::value_t::number_float: return Value(j.get<double>());
    case Json::value_t::string: return Value(j.get<std::string>());
    case Json::value_t::array: {
      List items;
      for (const Json& e : j) items.push_back(from_json(e, filename, tagged, depth + 1));
      return Value::list(std::move(items));
    }
    case Json::value_t::object: {
      if (tagged && j.size() == 1) {
        auto it = j.begin();
        if (it.key() == "__tuple__" && it.value().is_array()) {
          List items;
          for (const Json& e : it.value()) items.push_back(from_json(e, filename, tagged, depth + 1));
          return Value::tuple(std::move(items));
        }
        if (it.key() == "__float__" && it.value().is_string()) {
          const std::string& s = it.value().get_ref<const std::string&>();
          if (s == "inf") return Value(HUGE_VAL);
          if (s == "-inf") return Value(-HUGE_VAL);
          if (s == "nan") return Value(std::nan(""));
          throw ConfigError(filename + ": bad {\"__float__\": \"" + s + "\"} (expected inf, -inf or nan)");
        }
      }
      Dict d;
      for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), from_json(it.value(), filename, tagged, depth + 1));
      return Value(std::move(d));
    }
    default: throw ConfigError(filename + ": unsupported JSON value");
  }
}

}  // namespace

Value read_json_config(const std::string& text, const std::string& filename, bool tagged) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::parse_error& e) {
    // e.byte is the 1-based offset just past the error; turn it into line:col.
    size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    int line = 1, col = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string what = e.what();
    size_t msg = what.find("syntax error");
    throw ConfigError(filename + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " +
                      (msg == std::string::npos ? what : what.substr(msg)));
  }
  return from_json(j, filename, tagged, 0);
}

}  // namespace cppdet::config
