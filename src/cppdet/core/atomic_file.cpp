#include "cppdet/core/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cppdet/core/error.h"

namespace cppdet {
namespace {

std::string temporary_path_for(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}

void rename_or_throw(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(from.c_str());
    throw FileFormatError(to + ": cannot write (" + reason + ")");
  }
}

}  // namespace

void produce_file_atomically(const std::string& path,
                             const std::function<void(const std::string& tmp_path)>& produce) {
  const std::string tmp = temporary_path_for(path);
  try {
    produce(tmp);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  rename_or_throw(tmp, path);
}

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  produce_file_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw FileFormatError(path + ": cannot open for writing (" + std::strerror(errno) + ")");
    write(out);
    out.flush();
    if (!out) throw FileFormatError(path + ": write failed (" + std::strerror(errno) + ")");
    out.close();
    if (out.fail()) throw FileFormatError(path + ": write failed on close");
  });
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileFormatError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw FileFormatError(path + ": read failed");
  return buffer.str();
}

}  // namespace cppdet
