#pragma once
// JSON and YAML config files as value trees (what mmcv.load gives for them).
#include <string>

#include "cppdet/config/value.h"

namespace cppdet::config {

// A .json config. With `tagged`, {"__tuple__": [...]} becomes a tuple and
// {"__float__": "inf"|"-inf"|"nan"} a float (the encoding of dump_json).
Value read_json_config(const std::string& text, const std::string& filename, bool tagged);
// A .yaml/.yml config, with PyYAML's resolution of plain scalars (null, bool, int, float,
// else str; quoted scalars are str) and `!!python/tuple` sequences as tuples.
Value read_yaml_config(const std::string& text, const std::string& filename);

}  // namespace cppdet::config
