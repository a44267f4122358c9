#pragma once
// A training log in MMDetection's JSON-lines format (<timestamp>.log.json, written by
// engine/hooks/text_logger_hook): line 1 is the run meta (skipped); each other line is one
// record {"mode": "train"|"val", "epoch", "iter", "lr", ..., "time"}. Records are grouped by
// epoch in order of first appearance, as analyze_logs.py's load_json_logs does; lines without
// "epoch" and blank lines are skipped.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cppdet::visualization {

struct LogEpoch {
  int64_t epoch = 0;
  std::vector<nlohmann::json> records;  // file order, "epoch" removed

  // The numeric values of `key` in the records of `mode` ("" = any mode) that have it.
  std::vector<double> numbers(const std::string& key, const std::string& mode = "") const;
};

struct JsonLog {
  std::string path;
  std::vector<LogEpoch> epochs;
};

// Reads a .log.json file; FileFormatError "<path>:<line>: ..." on malformed lines.
JsonLog load_json_log(const std::string& path);
// The same from text; `source` names it in messages.
JsonLog parse_json_log(const std::string& text, const std::string& source);

}  // namespace cppdet::visualization
