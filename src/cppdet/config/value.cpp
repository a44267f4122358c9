#include "cppdet/config/value.h"

#include <algorithm>

#include "cppdet/core/error.h"

namespace cppdet::config {

// ---- Dict ------------------------------------------------------------------------------

bool Dict::contains(const std::string& key) const { return find(key) != nullptr; }

const Value* Dict::find(const std::string& key) const {
  auto it = std::find(keys_.begin(), keys_.end(), key);
  return it == keys_.end() ? nullptr : &values_[it - keys_.begin()];
}

Value* Dict::find(const std::string& key) {
  return const_cast<Value*>(static_cast<const Dict*>(this)->find(key));
}

const Value& Dict::at(const std::string& key) const {
  const Value* v = find(key);
  if (!v) throw ConfigError("missing key '" + key + "'");
  return *v;
}

Value& Dict::at(const std::string& key) {
  return const_cast<Value&>(static_cast<const Dict*>(this)->at(key));
}

void Dict::set(const std::string& key, Value value) {
  if (Value* existing = find(key)) {
    *existing = std::move(value);
    return;
  }
  keys_.push_back(key);
  values_.push_back(std::move(value));
}

bool Dict::erase(const std::string& key) {
  auto it = std::find(keys_.begin(), keys_.end(), key);
  if (it == keys_.end()) return false;
  values_.erase(values_.begin() + (it - keys_.begin()));
  keys_.erase(it);
  return true;
}

// Python dict equality ignores order.
bool Dict::operator==(const Dict& other) const {
  if (size() != other.size()) return false;
  for (size_t i = 0; i < keys_.size(); ++i) {
    const Value* v = other.find(keys_[i]);
    if (!v || *v != values_[i]) return false;
  }
  return true;
}

// ---- Value -----------------------------------------------------------------------------

Value::Kind Value::kind() const {
  switch (data_.index()) {
    case 0: return Kind::None;
    case 1: return Kind::Bool;
    case 2: return Kind::Int;
    case 3: return Kind::Float;
    case 4: return Kind::String;
    case 5: return std::get<Sequence>(data_).is_tuple ? Kind::Tuple : Kind::List;
    default: return Kind::Dict;
  }
}

std::string Value::type_name() const {
  switch (kind()) {
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::List: return "list";
    case Kind::Tuple: return "tuple";
    case Kind::Dict: return "dict";
  }
  return "?";
}

namespace {

std::string brief_of(const Value& v, size_t budget);

std::string brief_items(const List& items, size_t budget) {
  std::string out;
  for (size_t i = 0; i < items.size() && out.size() < budget; ++i) {
    if (i) out += ", ";
    out += brief_of(items[i], budget - std::min(budget, out.size()));
  }
  return out;
}

std::string brief_of(const Value& v, size_t budget) {
  std::string out;
  switch (v.kind()) {
    case Value::Kind::None: out = "None"; break;
    case Value::Kind::Bool: out = v.as_bool() ? "True" : "False"; break;
    case Value::Kind::Int: out = std::to_string(v.as_int()); break;
    case Value::Kind::Float: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", v.as_number());
      out = buf;
      break;
    }
    case Value::Kind::String: out = "'" + v.as_string() + "'"; break;
    case Value::Kind::List: out = "[" + brief_items(v.as_sequence(), budget) + "]"; break;
    case Value::Kind::Tuple: out = "(" + brief_items(v.as_sequence(), budget) + ")"; break;
    case Value::Kind::Dict: {
      out = "{";
      const Dict& d = v.as_dict();
      for (size_t i = 0; i < d.size() && out.size() < budget; ++i) {
        if (i) out += ", ";
        out += "'" + d.keys()[i] + "': " + brief_of(d.values()[i], budget - std::min(budget, out.size()));
      }
      out += "}";
      break;
    }
  }
  if (out.size() > budget) out = out.substr(0, budget) + "...";
  return out;
}

[[noreturn]] void kind_mismatch(const char* expected, const Value& got) {
  throw ConfigError(std::string("expected ") + expected + ", got " + got.type_name() + " " + got.brief());
}

}  // namespace

std::string Value::brief() const { return brief_of(*this, 60); }

bool Value::as_bool() const {
  if (!is_bool()) kind_mismatch("bool", *this);
  return std::get<bool>(data_);
}

int64_t Value::as_int() const {
  if (!is_int()) kind_mismatch("int", *this);
  return std::get<int64_t>(data_);
}

double Value::as_number() const {
  if (is_int()) return static_cast<double>(std::get<int64_t>(data_));
  if (!is_float()) kind_mismatch("number", *this);
  return std::get<double>(data_);
}

const std::string& Value::as_string() const {
  if (!is_string()) kind_mismatch("str", *this);
  return std::get<std::string>(data_);
}

const List& Value::as_sequence() const {
  if (!is_sequence()) kind_mismatch("list or tuple", *this);
  return std::get<Sequence>(data_).items;
}

List& Value::as_sequence() {
  if (!is_sequence()) kind_mismatch("list or tuple", *this);
  return std::get<Sequence>(data_).items;
}

const Dict& Value::as_dict() const {
  if (!is_dict()) kind_mismatch("dict", *this);
  return std::get<Dict>(data_);
}

Dict& Value::as_dict() {
  if (!is_dict()) kind_mismatch("dict", *this);
  return std::get<Dict>(data_);
}

bool Value::operator==(const Value& other) const {
  // Python: True == 1 == 1.0; these configs never rely on bool/number cross-equality, so
  // only int/float compare across kinds.
  if (is_number() && other.is_number() && (is_float() || other.is_float()))
    return as_number() == other.as_number();
  return data_ == other.data_;
}

}  // namespace cppdet::config
