#pragma once
// The config value tree: what an MMDetection config evaluates to. Python's data model as
// mmcv's Config sees it — None, bool, int, float, str, list, tuple, and dicts that keep
// insertion order (mmcv dumps keys in that order). Copying a Value copies the whole tree.
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace cppdet::config {

class Value;

// An insertion-ordered string-keyed map (a Python dict whose keys are str).
class Dict {
 public:
  bool contains(const std::string& key) const;
  // Throws ConfigError naming `key` when absent.
  const Value& at(const std::string& key) const;
  Value& at(const std::string& key);
  // nullptr when absent.
  const Value* find(const std::string& key) const;
  Value* find(const std::string& key);
  // Inserts at the end or replaces in place (keeping the original position, as Python does).
  void set(const std::string& key, Value value);
  // Removes `key` if present; returns whether it was.
  bool erase(const std::string& key);

  size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }
  const std::vector<std::string>& keys() const { return keys_; }
  const std::vector<Value>& values() const { return values_; }
  std::vector<Value>& values() { return values_; }

  bool operator==(const Dict& other) const;
  bool operator!=(const Dict& other) const { return !(*this == other); }

 private:
  std::vector<std::string> keys_;
  std::vector<Value> values_;
};

// Python list and tuple share one representation; Value remembers which one it is.
using List = std::vector<Value>;

class Value {
 public:
  enum class Kind { None, Bool, Int, Float, String, List, Tuple, Dict };

  Value() = default;  // None
  Value(std::nullptr_t) {}
  Value(bool v) : data_(v) {}
  Value(int v) : data_(static_cast<int64_t>(v)) {}
  Value(int64_t v) : data_(v) {}
  Value(double v) : data_(v) {}
  Value(const char* v) : data_(std::string(v)) {}
  Value(std::string v) : data_(std::move(v)) {}
  Value(Dict v) : data_(std::move(v)) {}
  static Value list(List items = {}) { return Value(std::move(items), false); }
  static Value tuple(List items = {}) { return Value(std::move(items), true); }

  Kind kind() const;
  bool is_none() const { return kind() == Kind::None; }
  bool is_bool() const { return kind() == Kind::Bool; }
  bool is_int() const { return kind() == Kind::Int; }
  bool is_float() const { return kind() == Kind::Float; }
  bool is_number() const { return is_int() || is_float(); }
  bool is_string() const { return kind() == Kind::String; }
  bool is_list() const { return kind() == Kind::List; }
  bool is_tuple() const { return kind() == Kind::Tuple; }
  bool is_sequence() const { return is_list() || is_tuple(); }  // list or tuple
  bool is_dict() const { return kind() == Kind::Dict; }

  // Typed access; each throws ConfigError ("expected int, got str 'x'") on a kind mismatch.
  bool as_bool() const;
  int64_t as_int() const;
  double as_number() const;  // int or float
  const std::string& as_string() const;
  const List& as_sequence() const;  // list or tuple
  List& as_sequence();
  const Dict& as_dict() const;
  Dict& as_dict();

  bool operator==(const Value& other) const;  // Python equality; 1 == 1.0, list != tuple
  bool operator!=(const Value& other) const { return !(*this == other); }

  // "int", "float", "str", "list", "tuple", "dict", "bool", "NoneType".
  std::string type_name() const;
  // A short Python-like rendering for error messages (truncated when long).
  std::string brief() const;

 private:
  struct Sequence {
    List items;
    bool is_tuple = false;
    bool operator==(const Sequence& o) const { return is_tuple == o.is_tuple && items == o.items; }
  };
  Value(List items, bool is_tuple) : data_(Sequence{std::move(items), is_tuple}) {}

  std::variant<std::monostate, bool, int64_t, double, std::string, Sequence, Dict> data_;
};

}  // namespace cppdet::config
