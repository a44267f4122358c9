#pragma once
// A Python object tree as found in a checkpoint outside `meta`: what an optimizer's
// state_dict() holds (None, bool, int, float, str, tensors, lists, tuples and dicts keyed by
// str or int, e.g. {"state": {0: {"momentum_buffer": T}}, "param_groups": [{...}]}).
// Copying a SavedValue copies the tree; tensors are shared (shallow), as in Python.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace cppdet::io {

class SavedValue;

// A dict key: Python str or int (optimizer states are keyed by parameter index).
using SavedKey = std::variant<int64_t, std::string>;
using SavedDict = std::vector<std::pair<SavedKey, SavedValue>>;  // insertion order
using SavedList = std::vector<SavedValue>;

class SavedValue {
 public:
  enum class Kind { None, Bool, Int, Float, String, Tensor, List, Tuple, Dict };

  SavedValue() = default;  // None
  SavedValue(bool v) : data_(v) {}
  SavedValue(int v) : data_(static_cast<int64_t>(v)) {}
  SavedValue(int64_t v) : data_(v) {}
  SavedValue(double v) : data_(v) {}
  SavedValue(const char* v) : data_(std::string(v)) {}
  SavedValue(std::string v) : data_(std::move(v)) {}
  SavedValue(torch::Tensor v) : data_(std::move(v)) {}
  SavedValue(SavedDict v) : data_(std::move(v)) {}
  static SavedValue list(SavedList items = {}) { return SavedValue(std::move(items), false); }
  static SavedValue tuple(SavedList items = {}) { return SavedValue(std::move(items), true); }

  Kind kind() const;
  bool is_none() const { return kind() == Kind::None; }

  // Typed access; each throws FileFormatError ("expected dict, got list") on a mismatch.
  bool as_bool() const;
  int64_t as_int() const;
  double as_float() const;  // int or float
  const std::string& as_string() const;
  const torch::Tensor& as_tensor() const;
  const SavedList& as_sequence() const;  // list or tuple
  const SavedDict& as_dict() const;
  SavedDict& as_dict();

  // nullptr when this is not a dict or the key is absent.
  const SavedValue* find(const SavedKey& key) const;

  // "NoneType", "bool", "int", "float", "str", "Tensor", "list", "tuple", "dict".
  std::string type_name() const;

 private:
  struct Sequence {
    SavedList items;
    bool is_tuple = false;
  };
  SavedValue(SavedList items, bool is_tuple) : data_(Sequence{std::move(items), is_tuple}) {}

  std::variant<std::monostate, bool, int64_t, double, std::string, torch::Tensor, Sequence, SavedDict> data_;
};

}  // namespace cppdet::io
