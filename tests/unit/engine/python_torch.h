#pragma once
// The Python interpreter that has torch (tests compare against it): "python3" on PATH if it
// imports torch, else /usr/bin/python3; "" when neither does.
#include <string>

#include "support/test_support.h"

namespace cppdet::engine::testing {

inline const std::string& python_with_torch() {
  static const std::string found = [] {
    for (const char* exe : {"python3", "/usr/bin/python3"})
      if (cppdet::testing::run_command(std::string(exe) + " -c 'import torch, numpy'").exit_code == 0) return std::string(exe);
    return std::string();
  }();
  return found;
}

}  // namespace cppdet::engine::testing
