#include "cppdet/io/zip_reader.h"

#include <zip.h>

#include "cppdet/core/error.h"

namespace cppdet::io {

struct ZipReader::Archive {
  zip_t* zip = nullptr;
  ~Archive() {
    if (zip) zip_discard(zip);
  }
};

ZipReader::ZipReader(std::string_view bytes, std::string name)
    : archive_(std::make_unique<Archive>()), name_(std::move(name)), input_size_(bytes.size()) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (source) archive_->zip = zip_open_from_source(source, ZIP_RDONLY, &error);
  if (!archive_->zip) {
    std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    if (source) zip_source_free(source);
    throw FileFormatError(name_ + ": not a readable zip archive (" + why + ")");
  }
  zip_error_fini(&error);
  zip_int64_t count = zip_get_num_entries(archive_->zip, 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    const char* entry = zip_get_name(archive_->zip, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
    names_.push_back(entry ? entry : "");
    index_.emplace(names_.back(), names_.size() - 1);
  }
}

ZipReader::~ZipReader() = default;

bool ZipReader::contains(const std::string& entry) const { return index_.count(entry) != 0; }

std::string ZipReader::read(const std::string& entry) const {
  auto it = index_.find(entry);
  if (it == index_.end()) throw FileFormatError(name_ + ": zip entry '" + entry + "' is missing");
  const auto index = static_cast<zip_uint64_t>(it->second);
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(archive_->zip, index, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
    throw FileFormatError(name_ + ": cannot read zip entry '" + entry + "'");
  // A stored entry cannot be larger than the archive; a compressed one is allowed a
  // generous ratio, so that a "zip bomb" is refused before anything is allocated.
  const bool stored = (st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method == ZIP_CM_STORE;
  const zip_uint64_t limit = stored ? input_size_ : 64 * static_cast<zip_uint64_t>(input_size_) + (1 << 20);
  if (st.size > limit) throw FileFormatError(name_ + ": zip entry '" + entry + "' claims an implausible size");
  zip_file_t* file = zip_fopen_index(archive_->zip, index, 0);
  if (!file) throw FileFormatError(name_ + ": cannot open zip entry '" + entry + "': " + zip_strerror(archive_->zip));
  std::string out(st.size, '\0');
  zip_int64_t got = out.empty() ? 0 : zip_fread(file, out.data(), out.size());
  std::string why = got < 0 ? zip_file_strerror(file) : "";
  zip_fclose(file);
  if (got < 0 || static_cast<zip_uint64_t>(got) != st.size)
    throw FileFormatError(name_ + ": zip entry '" + entry + "' is truncated or corrupt" + (why.empty() ? "" : " (" + why + ")"));
  return out;
}

bool looks_like_zip(std::string_view bytes) { return bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4); }

}  // namespace cppdet::io
