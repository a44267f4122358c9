#pragma once
// SHA-256 (FIPS 180-4), for naming published checkpoints like MMDetection's publish_model.
#include <string>
#include <string_view>

namespace cppdet::io {

// Lower-case hex digest of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace cppdet::io
