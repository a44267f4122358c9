#pragma once
// Evaluates the declarative subset of Python that MMDetection configs are written in, without
// running Python: `name = expr` statements whose expressions use literals, dict()/list()/
// tuple()/float() calls, {...}/[...]/(...) displays, names bound earlier in the same file,
// `**name` in dicts, `*name` in lists/tuples, subscripts, unary +/- and + - * / // %.
// Anything else is a ConfigError "file:line:col: unsupported construct: <what>".
#include <map>
#include <string>
#include <utility>

#include "cppdet/config/value.h"

namespace cppdet::config::py {

// The module's names in first-assignment order, without those starting with "__"
// (mmcv's rule for which module names become config keys).
// `value_positions`, when given, receives each name's (line, col) of its last assigned value.
Dict evaluate_module(const std::string& text, const std::string& filename,
                     std::map<std::string, std::pair<int, int>>* value_positions = nullptr);

}  // namespace cppdet::config::py
