#include "cppdet/io/zip_writer.h"

#include <array>

#include "cppdet/core/error.h"

namespace cppdet::io {

namespace {

constexpr uint64_t kAlignment = 64;
constexpr uint16_t kVersion = 20;     // "2.0": stored entries, no zip64
constexpr uint16_t kDosDate = 0x21;   // 1980-01-01, fixed for reproducible files
constexpr uint64_t kLimit = 0xffffffffu;

void put(std::string& out, uint64_t v, int bytes) {
  for (int k = 0; k < bytes; ++k) out += static_cast<char>((v >> (8 * k)) & 0xff);
}

}  // namespace

uint32_t crc32(std::string_view data, uint32_t crc) {
  static const std::array<uint32_t, 256> kTable = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (char ch : data) crc = kTable[(crc ^ static_cast<uint8_t>(ch)) & 0xff] ^ (crc >> 8);
  return ~crc;
}

void ZipWriter::write(std::string_view bytes) {
  out_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  offset_ += bytes.size();
}

void ZipWriter::add(const std::string& name, std::string_view data) {
  if (offset_ >= kLimit || data.size() >= kLimit || entries_.size() >= 0xffff)
    throw FileFormatError("checkpoint too large for a zip archive without zip64 (over 4 GiB or 65535 entries)");
  const uint32_t crc = crc32(data);
  // Data begins after the 30-byte header, the name and the extra field (4-byte header + padding).
  const uint64_t start = offset_ + 30 + name.size() + 4;
  const uint64_t padding = (kAlignment - start % kAlignment) % kAlignment;
  std::string header;
  put(header, 0x04034b50, 4);
  put(header, kVersion, 2);
  put(header, 0, 2);  // flags
  put(header, 0, 2);  // stored
  put(header, 0, 2);  // time
  put(header, kDosDate, 2);
  put(header, crc, 4);
  put(header, data.size(), 4);
  put(header, data.size(), 4);
  put(header, name.size(), 2);
  put(header, 4 + padding, 2);
  header += name;
  header += "FB";
  put(header, padding, 2);
  header.append(padding, 'Z');
  entries_.push_back({name, crc, static_cast<uint32_t>(data.size()), static_cast<uint32_t>(offset_)});
  write(header);
  write(data);
}

void ZipWriter::finish() {
  const uint64_t directory_offset = offset_;
  std::string directory;
  for (const Entry& e : entries_) {
    put(directory, 0x02014b50, 4);
    put(directory, kVersion, 2);  // made by
    put(directory, kVersion, 2);  // needed
    put(directory, 0, 2);
    put(directory, 0, 2);
    put(directory, 0, 2);
    put(directory, kDosDate, 2);
    put(directory, e.crc, 4);
    put(directory, e.size, 4);
    put(directory, e.size, 4);
    put(directory, e.name.size(), 2);
    put(directory, 0, 2);  // extra
    put(directory, 0, 2);  // comment
    put(directory, 0, 2);  // disk
    put(directory, 0, 2);  // internal attributes
    put(directory, 0, 4);  // external attributes
    put(directory, e.offset, 4);
    directory += e.name;
  }
  if (directory_offset + directory.size() >= kLimit)
    throw FileFormatError("checkpoint too large for a zip archive without zip64 (over 4 GiB)");
  const uint64_t directory_size = directory.size();
  put(directory, 0x06054b50, 4);
  put(directory, 0, 2);  // this disk
  put(directory, 0, 2);  // disk with the directory
  put(directory, entries_.size(), 2);
  put(directory, entries_.size(), 2);
  put(directory, directory_size, 4);
  put(directory, directory_offset, 4);
  put(directory, 0, 2);  // comment
  write(directory);
}

}  // namespace cppdet::io
