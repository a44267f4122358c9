#pragma once
// Checking a user's device string before anything is moved there.
#include <string>

namespace cppdet::apis {

// Accepts "cpu", "cuda" and "cuda:N" and returns the canonical form ("cuda" -> "cuda:0").
// Throws UserError for anything else, for CUDA in a CPU-only build, when no CUDA device is
// present, or when N is out of range.
std::string check_device(const std::string& device);

}  // namespace cppdet::apis
