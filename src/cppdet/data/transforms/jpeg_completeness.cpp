#include "cppdet/data/transforms/jpeg_completeness.h"

#include <cstring>

namespace cppdet::data {

namespace {

constexpr uint8_t kMarkerPrefix = 0xFF;
constexpr uint8_t kSoi = 0xD8, kEoi = 0xD9, kSos = 0xDA, kTem = 0x01;

bool is_restart_marker(uint8_t code) { return code >= 0xD0 && code <= 0xD7; }

// From `pos` inside a scan's entropy-coded data, the offset of the next real marker's 0xFF
// (stuffed 0xFF00 bytes and restart markers belong to the data), or `size` when none.
size_t end_of_entropy_coded_data(const uint8_t* bytes, size_t size, size_t pos) {
  while (pos < size) {
    const void* ff = std::memchr(bytes + pos, kMarkerPrefix, size - pos);
    if (!ff) return size;
    pos = static_cast<size_t>(static_cast<const uint8_t*>(ff) - bytes);
    if (pos + 1 >= size) return size;
    const uint8_t next = bytes[pos + 1];
    if (next == 0x00 || is_restart_marker(next) || next == kMarkerPrefix) {
      pos += next == kMarkerPrefix ? 1 : 2;  // a fill byte repeats 0xFF before a marker
      continue;
    }
    return pos;
  }
  return size;
}

}  // namespace

bool jpeg_ends_prematurely(const uint8_t* bytes, size_t size) {
  if (size < 2 || bytes[0] != kMarkerPrefix || bytes[1] != kSoi) return false;
  size_t pos = 2;
  while (true) {
    while (pos < size && bytes[pos] == kMarkerPrefix && pos + 1 < size && bytes[pos + 1] == kMarkerPrefix) ++pos;
    if (pos + 1 >= size) return true;
    if (bytes[pos] != kMarkerPrefix) return false;  // not a marker where one must be: corrupt, not short
    const uint8_t code = bytes[pos + 1];
    if (code == kEoi) return false;
    if (code == kSoi || code == kTem || is_restart_marker(code)) {  // markers without a length
      pos += 2;
      continue;
    }
    if (pos + 4 > size) return true;
    const size_t length = (size_t{bytes[pos + 2]} << 8) | bytes[pos + 3];  // includes its own 2 bytes
    if (length < 2) return false;
    pos += 2 + length;
    if (pos > size) return true;
    if (code == kSos) {
      pos = end_of_entropy_coded_data(bytes, size, pos);
      if (pos >= size) return true;
    }
  }
}

}  // namespace cppdet::data
