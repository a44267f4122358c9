#pragma once
// A fast, strict JSON tokenizer for large in-memory files that reports nlohmann::json's SAX
// events (null, boolean, number_integer/unsigned/float, string, start/end object/array, key).
// It is iterative (no recursion, any nesting depth) and several times faster than
// nlohmann::json::sax_parse on number-heavy COCO files: numbers are parsed in place with
// std::from_chars (correctly rounded, like Python's float()).
//
// Number events follow nlohmann: no '.', 'e' or 'E' and fits in 64 bits -> number_unsigned
// (non-negative) or number_integer (negative); otherwise number_float.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace cppdet::evaluation {

// Throws FileFormatError "<source>:<line>:<col>: malformed JSON (byte N): <what>" on a syntax
// error; exceptions thrown by the handler pass through.
void parse_json_events(std::string_view text, nlohmann::json_sax<nlohmann::json>& handler, const std::string& source);

}  // namespace cppdet::evaluation
