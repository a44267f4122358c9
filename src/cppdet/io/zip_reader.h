#pragma once
// Read-only access to a zip archive held in memory (libzip), as torch.save's zip format
// needs: list entry names, read one entry whole. Errors are FileFormatError naming `name`.
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cppdet::io {

class ZipReader {
 public:
  // `bytes` must outlive the reader.
  ZipReader(std::string_view bytes, std::string name);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  // Entry names in central-directory order.
  const std::vector<std::string>& names() const { return names_; }
  bool contains(const std::string& entry) const;
  // The entry's uncompressed content; throws when absent, corrupt or implausibly large.
  std::string read(const std::string& entry) const;

 private:
  struct Archive;
  std::unique_ptr<Archive> archive_;
  std::string name_;
  size_t input_size_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, size_t> index_;  // name -> position in names_ (first one)
};

// True when `bytes` starts like a zip archive (a local file header).
bool looks_like_zip(std::string_view bytes);

}  // namespace cppdet::io
