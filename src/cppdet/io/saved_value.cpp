#include "cppdet/io/saved_value.h"

#include "cppdet/core/error.h"

namespace cppdet::io {

SavedValue::Kind SavedValue::kind() const {
  switch (data_.index()) {
    case 0: return Kind::None;
    case 1: return Kind::Bool;
    case 2: return Kind::Int;
    case 3: return Kind::Float;
    case 4: return Kind::String;
    case 5: return Kind::Tensor;
    case 6: return std::get<Sequence>(data_).is_tuple ? Kind::Tuple : Kind::List;
    default: return Kind::Dict;
  }
}

std::string SavedValue::type_name() const {
  static const char* const kNames[] = {"NoneType", "bool", "int", "float", "str", "Tensor", "list", "tuple", "dict"};
  return kNames[static_cast<int>(kind())];
}

namespace {
[[noreturn]] void mismatch(const char* expected, const SavedValue& got) {
  throw FileFormatError(std::string("expected ") + expected + ", got " + got.type_name());
}
}  // namespace

bool SavedValue::as_bool() const {
  if (kind() != Kind::Bool) mismatch("bool", *this);
  return std::get<bool>(data_);
}

int64_t SavedValue::as_int() const {
  if (kind() != Kind::Int) mismatch("int", *this);
  return std::get<int64_t>(data_);
}

double SavedValue::as_float() const {
  if (kind() == Kind::Int) return static_cast<double>(std::get<int64_t>(data_));
  if (kind() != Kind::Float) mismatch("float", *this);
  return std::get<double>(data_);
}

const std::string& SavedValue::as_string() const {
  if (kind() != Kind::String) mismatch("str", *this);
  return std::get<std::string>(data_);
}

const torch::Tensor& SavedValue::as_tensor() const {
  if (kind() != Kind::Tensor) mismatch("Tensor", *this);
  return std::get<torch::Tensor>(data_);
}

const SavedList& SavedValue::as_sequence() const {
  if (data_.index() != 6) mismatch("list or tuple", *this);
  return std::get<Sequence>(data_).items;
}

const SavedDict& SavedValue::as_dict() const {
  if (kind() != Kind::Dict) mismatch("dict", *this);
  return std::get<SavedDict>(data_);
}

SavedDict& SavedValue::as_dict() {
  if (kind() != Kind::Dict) mismatch("dict", *this);
  return std::get<SavedDict>(data_);
}

const SavedValue* SavedValue::find(const SavedKey& key) const {
  if (kind() != Kind::Dict) return nullptr;
  for (const auto& [k, v] : std::get<SavedDict>(data_))
    if (k == key) return &v;
  return nullptr;
}

}  // namespace cppdet::io
