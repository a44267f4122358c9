#include "cppdet/config/py_operators.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <vector>

#include "cppdet/config/python_repr.h"

namespace cppdet::config::py {
namespace {

bool is_intlike(const Value& v) { return v.is_int() || v.is_bool(); }
int64_t intlike(const Value& v) { return v.is_bool() ? (v.as_bool() ? 1 : 0) : v.as_int(); }
bool is_numeric(const Value& v) { return is_intlike(v) || v.is_float(); }
double numeric(const Value& v) { return v.is_float() ? v.as_number() : static_cast<double>(intlike(v)); }

[[noreturn]] void unsupported_operands(const std::string& op, const Value& a, const Value& b) {
  throw OperatorError("unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" +
                      b.type_name() + "'");
}

[[noreturn]] void overflow() { throw OperatorError("integer overflow (cppdet keeps ints in 64 bits)"); }

Value repeat(const Value& seq, int64_t times) {
  const bool empty = seq.is_string() ? seq.as_string().empty() : seq.as_sequence().empty();
  if (times < 0 || empty) times = 0;  // repeating nothing is instant, whatever the count
  if (seq.is_string()) {
    std::string out;
    for (int64_t i = 0; i < times; ++i) out += seq.as_string();
    return Value(out);
  }
  List out;
  const List& items = seq.as_sequence();
  out.reserve(items.size() * static_cast<size_t>(times));
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

// Python's float floor division and modulo (result of % takes the divisor's sign).
void float_divmod(double a, double b, double& div, double& mod) {
  mod = std::fmod(a, b);
  div = (a - mod) / b;
  if (mod != 0.0) {
    if ((b < 0) != (mod < 0)) {
      mod += b;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, b);
  }
  if (div != 0.0) {
    double floor_div = std::floor(div);
    if (div - floor_div > 0.5) floor_div += 1.0;
    div = floor_div;
  } else {
    div = std::copysign(0.0, a / b);
  }
}

}  // namespace

Value binary_op(const std::string& op, const Value& a, const Value& b) {
  bool ints = is_intlike(a) && is_intlike(b);
  bool numbers = is_numeric(a) && is_numeric(b);
  if (op == "+") {
    if (ints) {
      int64_t r;
      if (__builtin_add_overflow(intlike(a), intlike(b), &r)) overflow();
      return Value(r);
    }
    if (numbers) return Value(numeric(a) + numeric(b));
    if (a.is_string() && b.is_string()) return Value(a.as_string() + b.as_string());
    if ((a.is_list() && b.is_list()) || (a.is_tuple() && b.is_tuple())) {
      List out = a.as_sequence();
      out.insert(out.end(), b.as_sequence().begin(), b.as_sequence().end());
      return a.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
    }
    unsupported_operands(op, a, b);
  }
  if (op == "-") {
    if (ints) {
      int64_t r;
      if (__builtin_sub_overflow(intlike(a), intlike(b), &r)) overflow();
      return Value(r);
    }
    if (numbers) return Value(numeric(a) - numeric(b));
    unsupported_operands(op, a, b);
  }
  if (op == "*") {
    if (ints) {
      int64_t r;
      if (__builtin_mul_overflow(intlike(a), intlike(b), &r)) overflow();
      return Value(r);
    }
    if (numbers) return Value(numeric(a) * numeric(b));
    if ((a.is_string() || a.is_sequence()) && is_intlike(b)) return repeat(a, intlike(b));
    if (is_intlike(a) && (b.is_string() || b.is_sequence())) return repeat(b, intlike(a));
    unsupported_operands(op, a, b);
  }
  if (op == "/") {
    if (!numbers) unsupported_operands(op, a, b);
    if (numeric(b) == 0.0) throw OperatorError("division by zero");
    return Value(numeric(a) / numeric(b));
  }
  if (op == "//" || op == "%") {
    if (a.is_string() && op == "%") throw OperatorError("unsupported construct: %-formatting of strings");
    if (!numbers) unsupported_operands(op, a, b);
    if (numeric(b) == 0.0) throw OperatorError(op == "//" ? "division by zero" : "modulo by zero");
    if (ints) {
      int64_t x = intlike(a), y = intlike(b);
      if (x == INT64_MIN && y == -1) overflow();
      int64_t q = x / y, r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) {
        q -= 1;
        r += y;
      }
      return Value(op == "//" ? q : r);
    }
    double div, mod;
    float_divmod(numeric(a), numeric(b), div, mod);
    return Value(op == "//" ? div : mod);
  }
  throw OperatorError("unsupported construct: operator " + op);
}

Value unary_op(char op, const Value& a) {
  if (is_intlike(a)) {
    int64_t v = intlike(a);
    if (op == '+') return Value(v);
    if (v == INT64_MIN) overflow();
    return Value(-v);
  }
  if (a.is_float()) return Value(op == '+' ? a.as_number() : -a.as_number());
  throw OperatorError(std::string("bad operand type for unary ") + op + ": '" + a.type_name() + "'");
}

Value subscript(const Value& container, const Value& index) {
  if (container.is_dict()) {
    if (!index.is_string()) throw OperatorError("KeyError: " + python_repr(index));
    const Value* v = container.as_dict().find(index.as_string());
    if (!v) throw OperatorError("KeyError: " + python_repr(index));
    return *v;
  }
  if (container.is_string()) {
    if (!is_intlike(index)) throw OperatorError("string indices must be integers, not " + index.type_name());
    // Python indexes code points: a character is a UTF-8 lead byte (or the first byte) and the
    // continuation bytes after it. Walked in place: the text may be megabytes long.
    const std::string& s = container.as_string();
    auto starts_char = [&](size_t k) { return k == 0 || (static_cast<unsigned char>(s[k]) & 0xC0) != 0x80; };
    int64_t count = 0;
    for (size_t k = 0; k < s.size(); ++k) count += starts_char(k);
    int64_t i = intlike(index) < 0 ? intlike(index) + count : intlike(index);
    if (i < 0 || i >= count) throw OperatorError("string index out of range");
    size_t begin = 0;
    for (int64_t seen = -1;; ++begin)
      if (starts_char(begin) && ++seen == i) break;
    size_t end = begin + 1;
    while (end < s.size() && !starts_char(end)) ++end;
    return Value(s.substr(begin, end - begin));
  }
  if (container.is_sequence()) {
    if (!is_intlike(index))
      throw OperatorError(container.type_name() + " indices must be integers, not " + index.type_name());
    const List& items = container.as_sequence();
    int64_t size = static_cast<int64_t>(items.size());
    int64_t i = intlike(index) < 0 ? intlike(index) + size : intlike(index);
    if (i < 0 || i >= size) throw OperatorError(container.type_name() + " index out of range");
    return items[i];
  }
  throw OperatorError("'" + container.type_name() + "' object is not subscriptable");
}

namespace {

std::string strip_spaces(const std::string& text) {
  const char* ws = " \t\n\r\f\v";
  size_t b = text.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return text.substr(b, text.find_last_not_of(ws) - b + 1);
}

// Digits with single underscores between them, starting at s[i]; appends the digits to
// `out` and returns the end index, or npos when there are none or an underscore is misplaced.
size_t scan_digits(const std::string& s, size_t i, std::string& out) {
  size_t start = i;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_')) {
    if (s[i] == '_' && (i == start || i + 1 >= s.size() || !(s[i + 1] >= '0' && s[i + 1] <= '9')))
      return std::string::npos;
    if (s[i] != '_') out += s[i];
    ++i;
  }
  return i == start ? std::string::npos : i;
}

}  // namespace

bool python_int_from_string(const std::string& text, int64_t& out) {
  std::string s = strip_spaces(text);
  size_t i = 0;
  std::string digits;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) digits += s[i++];
  size_t end = scan_digits(s, i, digits);
  if (end == std::string::npos || end != s.size()) return false;
  errno = 0;
  long long v = std::strtoll(digits.c_str(), nullptr, 10);
  if (errno == ERANGE) throw OperatorError("integer " + s + " is too large (cppdet keeps ints in 64 bits)");
  out = v;
  return true;
}

bool python_float_from_string(const std::string& text, double& out) {
  std::string s = strip_spaces(text);
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  std::string rest;
  for (size_t k = i; k < s.size(); ++k) rest += static_cast<char>(std::tolower(static_cast<unsigned char>(s[k])));
  if (rest == "inf" || rest == "infinity") {
    out = negative ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (rest == "nan") {
    out = std::nan("");
    return true;
  }
  std::string clean = negative ? "-" : "";
  bool int_part = false, frac_part = false;
  if (i < s.size() && s[i] != '.') {
    i = scan_digits(s, i, clean);
    if (i == std::string::npos) return false;
    int_part = true;
  }
  if (i < s.size() && s[i] == '.') {
    clean += '.';
    ++i;
    if (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      i = scan_digits(s, i, clean);
      if (i == std::string::npos) return false;
      frac_part = true;
    }
  }
  if (!int_part && !frac_part) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    clean += 'e';
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) clean += s[i++];
    i = scan_digits(s, i, clean);
    if (i == std::string::npos) return false;
  }
  if (i != s.size()) return false;
  out = std::strtod(clean.c_str(), nullptr);
  return true;
}

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::None: return false;
    case Value::Kind::Bool: return v.as_bool();
    case Value::Kind::Int: return v.as_int() != 0;
    case Value::Kind::Float: return v.as_number() != 0.0;
    case Value::Kind::String: return !v.as_string().empty();
    case Value::Kind::List:
    case Value::Kind::Tuple: return !v.as_sequence().empty();
    case Value::Kind::Dict: return !v.as_dict().empty();
  }
  return false;
}

}  // namespace cppdet::config::py
