#pragma once
// User-facing warnings: one line on stderr, "cppdet: warning: <message>". warn_once prints a
// message the first time its key is seen in this process (thread-safe), e.g. once per image file.
#include <string>

namespace cppdet {

void warn(const std::string& message);

// Returns true when this call printed (the key was new).
bool warn_once(const std::string& key, const std::string& message);

}  // namespace cppdet
