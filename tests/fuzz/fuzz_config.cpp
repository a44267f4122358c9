// libFuzzer target: arbitrary bytes as a .py config. Parsing must either succeed or throw
// ConfigError; a successful parse must survive both dumps and read back to the same tree.
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
  if (cppdet::config::dump_json(cppdet::config::parse_config_text(python, "dump.py")) != json) std::abort();
  return 0;
}
