#pragma once
// mmcv 1.x's Config._merge_a_into_b: the one merge rule behind `_base_` inheritance
// (allow_list_keys=false) and --cfg-options (allow_list_keys=true).
#include <string>

#include "cppdet/config/value.h"

namespace cppdet::config {

// Merges dict `a` into a copy of `b`: dicts merge recursively unless the child dict has a
// truthy `_delete_` (popped only where the key exists in `b`); other values replace. With
// `allow_list_keys`, an all-digit key indexes into a list in `b`. Errors are ConfigError
// "<key path>: <mmcv's message>"; `path` is the dotted path of `b`, "" at the top.
Value merge_a_into_b(const Value& a, const Value& b, bool allow_list_keys, const std::string& path = "");

}  // namespace cppdet::config
