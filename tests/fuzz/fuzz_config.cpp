// libFuzzer target: arbitrary bytes as a .py config. Parsing must either succeed or throw
// ConfigError; a successful parse must survive both dumps and read back to the same tree
// (or, at the size budget's edge, be refused as too large).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cppdet/config/config_file.h"
#include "cppdet/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  cppdet::config::Value cfg;
  try {
    cfg = cppdet::config::parse_config_text(text, "fuzz.py");
  } catch (const cppdet::ConfigError&) {
    return 0;
  }
  // Compare dumps (text), which treats nan as equal to itself.
  std::string json = cppdet::config::dump_json(cfg);
  if (cppdet::config::dump_json(cppdet::config::value_from_tagged_json(json)) != json) std::abort();
  std::string python = cppdet::config::dump_python(cfg);
  cppdet::config::Value reread;
  try {
    reread = cppdet::config::parse_config_text(python, "dump.py");
  } catch (const cppdet::ConfigError& e) {
    // The size budget counts the values an evaluation creates; a dump may spell a value with
    // more of them than its source did (float('inf') for 1e999), so a config at the budget's
    // edge may come back "too large" — a clean error. Anything else is a bug.
    if (std::string(e.what()).find("config too large") != std::string::npos) return 0;
    throw;
  }
  if (cppdet::config::dump_json(reread) != json) std::abort();
  return 0;
}
