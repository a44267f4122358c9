#pragma once
// Exact comparison of config trees for tests: kinds must match (int 1 != float 1.0, list !=
// tuple, bool != int), dict keys must come in the same order, floats compare bit-for-bit
// (so -0.0 != 0.0 and nan == nan). Returns "" when equal, else the path of the first difference.
#include <cmath>
#include <cstring>
#include <string>

#include "cppdet/config/python_repr.h"
#include "cppdet/config/value.h"

namespace cppdet::config::testing {

inline std::string first_difference(const Value& a, const Value& b, const std::string& path = "") {
  std::string where = path.empty() ? "<root>" : path;
  if (a.kind() != b.kind()) return where + ": " + a.type_name() + " " + a.brief() + " vs " + b.type_name() + " " + b.brief();
  switch (a.kind()) {
    case Value::Kind::Float: {
      double x = a.as_number(), y = b.as_number();
      bool same = (std::isnan(x) && std::isnan(y)) || std::memcmp(&x, &y, sizeof x) == 0;
      return same ? "" : where + ": " + python_float_repr(x) + " vs " + python_float_repr(y);
    }
    case Value::Kind::List:
    case Value::Kind::Tuple: {
      const List& x = a.as_sequence();
      const List& y = b.as_sequence();
      if (x.size() != y.size())
        return where + ": length " + std::to_string(x.size()) + " vs " + std::to_string(y.size());
      for (size_t i = 0; i < x.size(); ++i) {
        std::string d = first_difference(x[i], y[i], path + "[" + std::to_string(i) + "]");
        if (!d.empty()) return d;
      }
      return "";
    }
    case Value::Kind::Dict: {
      const Dict& x = a.as_dict();
      const Dict& y = b.as_dict();
      for (size_t i = 0; i < std::max(x.size(), y.size()); ++i) {
        std::string kx = i < x.size() ? x.keys()[i] : "<none>";
        std::string ky = i < y.size() ? y.keys()[i] : "<none>";
        if (kx != ky) return where + ": key #" + std::to_string(i) + " is '" + kx + "' vs '" + ky + "'";
        std::string d = first_difference(x.values()[i], y.values()[i], path.empty() ? kx : path + "." + kx);
        if (!d.empty()) return d;
      }
      return "";
    }
    default: return a == b ? "" : where + ": " + a.brief() + " vs " + b.brief();
  }
}

}  // namespace cppdet::config::testing
