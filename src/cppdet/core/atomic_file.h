#pragma once
// Writes a file so that readers never see a partial one: the data goes to
// "<path>.tmp.<pid>" which is renamed onto <path> only after a successful close.
#include <functional>
#include <ostream>
#include <string>

namespace cppdet {

// Calls write(stream) on a temporary file next to `path`, then renames it onto `path`.
// On any failure (exception from write, I/O error) the temporary file is removed and the
// previous content of `path`, if any, is untouched. Throws FileFormatError on I/O errors.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

// Same for a file produced by a writer that needs a path (e.g. a zip library): the callback
// gets the temporary path to create, and the rename happens after it returns.
void produce_file_atomically(const std::string& path, const std::function<void(const std::string& tmp_path)>& produce);

// Reads a whole file; throws FileFormatError naming the file when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace cppdet
