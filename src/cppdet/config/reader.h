#pragma once
// Turns one config dict into a typed options struct, with errors that name the key path:
//   ConfigReader r(cfg, "model.backbone");
//   opts.depth = r.get_int("depth");                  // required
//   opts.frozen_stages = r.get_int("frozen_stages", -1);
//   r.ignore({"init_cfg"});                           // accepted but unused here
//   r.finish();                                       // unknown keys -> ConfigError
// Messages look like "model.backbone.depth: expected int, got str '50'".
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cppdet/config/value.h"

namespace cppdet::config {

class ConfigReader {
 public:
  // `node` must be a dict; `path` is its dotted key path, used in messages.
  ConfigReader(const Value& node, std::string path);

  const std::string& path() const { return path_; }
  std::string path_of(const std::string& key) const;
  bool has(const std::string& key) const;  // present and not marked read

  // Required getters (missing -> error naming the path).
  const Value& get(const std::string& key);
  int64_t get_int(const std::string& key);
  double get_number(const std::string& key);
  bool get_bool(const std::string& key);
  std::string get_string(const std::string& key);
  std::vector<int64_t> get_ints(const std::string& key);      // list/tuple of ints
  std::vector<double> get_numbers(const std::string& key);    // list/tuple of numbers
  std::vector<std::string> get_strings(const std::string& key);

  // Optional getters: the fallback when absent (a present None counts as absent only for
  // get_optional).
  int64_t get_int(const std::string& key, int64_t fallback);
  double get_number(const std::string& key, double fallback);
  bool get_bool(const std::string& key, bool fallback);
  std::string get_string(const std::string& key, const std::string& fallback);
  std::vector<int64_t> get_ints(const std::string& key, std::vector<int64_t> fallback);
  std::vector<double> get_numbers(const std::string& key, std::vector<double> fallback);
  const Value* get_optional(const std::string& key);  // nullptr when absent or None

  // An int that may also be given as a single-element-or-more sequence (e.g. output_size=7 or (7, 7)).
  std::vector<int64_t> get_int_or_ints(const std::string& key, size_t count);

  void ignore(std::initializer_list<const char*> keys);
  // Throws ConfigError listing every key that was never read or ignored ("type" is always allowed).
  void finish() const;

 private:
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;

  Dict dict_;  // a copy: readers are often built from temporaries
  std::string path_;
  std::set<std::string> used_;
};

}  // namespace cppdet::config
