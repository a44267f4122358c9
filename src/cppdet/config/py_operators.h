#pragma once
// Python's arithmetic, repetition and subscript rules on config values:
// int/int true division gives a float, // and % floor toward -inf, str/list/tuple `+`
// concatenates, `*` with an int repeats, bools count as ints. 64-bit overflow is an error.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "cppdet/config/value.h"

namespace cppdet::config::py {

// A Python TypeError/ZeroDivisionError/IndexError/KeyError; the evaluator adds the location.
class OperatorError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// op is one of + - * / // %.
Value binary_op(const std::string& op, const Value& a, const Value& b);
// op is '+' or '-'.
Value unary_op(char op, const Value& a);
// container[index]: dict by str key, list/tuple/str by int (negative counts from the end).
Value subscript(const Value& container, const Value& index);
// Python's int(text) and float(text) on a str: surrounding whitespace, a sign, single
// underscores between digits; float also takes "inf", "infinity", "nan" in any case.
// False when Python would raise ValueError; an int beyond 64 bits throws OperatorError.
bool python_int_from_string(const std::string& text, int64_t& out);
bool python_float_from_string(const std::string& text, double& out);
// Python truth value (None, False, 0, 0.0, '' and empty containers are false).
bool truthy(const Value& v);

}  // namespace cppdet::config::py
