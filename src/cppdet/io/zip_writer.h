#pragma once
// Writes a zip archive of stored (uncompressed) entries the way torch.save's
// PyTorchStreamWriter does: each entry's data starts at a multiple of 64 bytes (padding in
// an "FB" extra field), fixed timestamps so equal inputs give identical files. No zip64:
// archives over 4 GiB are refused.
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace cppdet::io {

class ZipWriter {
 public:
  explicit ZipWriter(std::ostream& out) : out_(out) {}
  void add(const std::string& name, std::string_view data);
  // Writes the central directory; call once after the last add().
  void finish();

 private:
  struct Entry {
    std::string name;
    uint32_t crc;
    uint32_t size;
    uint32_t offset;
  };
  void write(std::string_view bytes);
  std::ostream& out_;
  uint64_t offset_ = 0;
  std::vector<Entry> entries_;
};

// CRC-32 (ISO-HDLC, as zip uses).
uint32_t crc32(std::string_view data, uint32_t crc = 0);

}  // namespace cppdet::io
