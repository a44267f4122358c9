#include "cppdet/core/warnings.h"

#include <iostream>
#include <mutex>
#include <unordered_set>

namespace cppdet {

namespace {

std::mutex& warnings_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

void warn(const std::string& message) {
  std::lock_guard<std::mutex> lock(warnings_mutex());
  std::cerr << "cppdet: warning: " << message << '\n';
}

bool warn_once(const std::string& key, const std::string& message) {
  {
    static std::unordered_set<std::string> seen;
    std::lock_guard<std::mutex> lock(warnings_mutex());
    if (!seen.insert(key).second) return false;
  }
  warn(message);
  return true;
}

}  // namespace cppdet
