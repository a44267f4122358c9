#include "cppdet/data/converters/images_to_coco.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <sstream>

#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"

namespace cppdet::data::converters {
namespace {

namespace fs = std::filesystem;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Files under `dir`, relative paths with '/' separators, sorted.
std::vector<std::string> files_under(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw FileFormatError(dir + ": image folder not found");
  std::vector<std::string> out;
  fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec), end;
  if (ec) throw FileFormatError(dir + ": cannot list the folder (" + ec.message() + ")");
  for (; it != end; it.increment(ec)) {
    if (ec) throw FileFormatError(dir + ": cannot list the folder (" + ec.message() + ")");
    if (it->is_regular_file(ec)) out.push_back(fs::relative(it->path(), dir).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// os.path.join(dir, rel).
std::string join(const std::string& dir, const std::string& rel) {
  if (dir.empty()) return rel;
  return dir.back() == '/' ? dir + rel : dir + "/" + rel;
}

}  // namespace

std::vector<std::string> read_class_names(const std::string& path) {
  std::istringstream in(read_file(path));
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  if (names.empty()) throw FileFormatError(path + ": no class names (expected one name per line)");
  return names;
}

std::string images_to_coco_output_path(const std::string& image_dir, const std::string& out) {
  if (!ends_with(out, "json")) throw UserError(out + ": the output file name must end with \"json\"");
  if (fs::path(out).has_parent_path()) return out;
  return (fs::path(image_dir) / ".." / "annotations" / out).lexically_normal().string();
}

OrderedJson images_to_coco(const ImagesToCocoOptions& options) {
  const std::vector<std::string> classes = read_class_names(options.classes_txt);
  std::vector<std::string> excluded;
  for (const std::string& e : options.exclude_extensions) excluded.push_back(lower(e));
  std::vector<std::string> files;
  for (const std::string& rel : files_under(options.image_dir)) {
    const std::string l = lower(rel);
    if (std::none_of(excluded.begin(), excluded.end(), [&](const std::string& e) { return ends_with(l, e); }))
      files.push_back(rel);
  }
  if (files.empty()) throw FileFormatError(options.image_dir + ": no images found");

  std::vector<ImageSize> sizes(files.size());
  run_with_progress(files.size(), options.num_threads,
                    [&](size_t i) { sizes[i] = read_image_size(join(options.image_dir, files[i]), false); });

  OrderedJson coco;
  coco["images"] = OrderedJson::array();
  coco["type"] = "instance";
  coco["categories"] = OrderedJson::array();
  coco["annotations"] = OrderedJson::array();
  for (size_t k = 0; k < classes.size(); ++k) {
    OrderedJson c;
    c["supercategory"] = "none";
    c["id"] = static_cast<int64_t>(k);
    c["name"] = classes[k];
    coco["categories"].push_back(std::move(c));
  }
  for (size_t i = 0; i < files.size(); ++i) {
    OrderedJson img;
    img["id"] = static_cast<int64_t>(i);
    img["file_name"] = join(options.image_dir, files[i]);
    img["height"] = sizes[i].height;
    img["width"] = sizes[i].width;
    coco["images"].push_back(std::move(img));
  }
  return coco;
}

}  // namespace cppdet::data::converters
