#pragma once
// Python's repr() of config values, as mmcv prints them in messages and pretty_text:
// floats in shortest round-trip form (0.1, 1e-05, 1.0), strings quoted the way Python
// chooses ('a', "it's"), tuples with the one-element comma ((1,)).
#include <string>

#include "cppdet/config/value.h"

namespace cppdet::config {

// repr(float): "1.0", "0.0001", "1e-05", "1e+16", "inf", "-inf", "nan".
std::string python_float_repr(double x);
// repr(str): single quotes unless the text holds ' and no ".
std::string python_str_repr(const std::string& s);
// repr of a whole value: {'a': 1, 'b': [1.0, (2,)]}, True, None.
std::string python_repr(const Value& v);
// A Python identifier that is not a keyword (usable as dict(key=...) / `key = ...`).
bool is_python_identifier(const std::string& s);

}  // namespace cppdet::config
