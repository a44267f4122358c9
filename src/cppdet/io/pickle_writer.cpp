#include "cppdet/io/pickle_writer.h"

#include <cstring>

namespace cppdet::io {

namespace {
void put_le(std::string& out, uint64_t v, int bytes) {
  for (int k = 0; k < bytes; ++k) out += static_cast<char>((v >> (8 * k)) & 0xff);
}
}  // namespace

PickleWriter::PickleWriter() { out_ = "\x80\x02"; }

void PickleWriter::none() { out_ += 'N'; }
void PickleWriter::boolean(bool v) { out_ += v ? '\x88' : '\x89'; }

void PickleWriter::integer(int64_t v) {
  if (v >= 0 && v < 256) {
    out_ += 'K';
    put_le(out_, static_cast<uint64_t>(v), 1);
  } else if (v >= 0 && v < 65536) {
    out_ += 'M';
    put_le(out_, static_cast<uint64_t>(v), 2);
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    out_ += 'J';
    put_le(out_, static_cast<uint64_t>(v), 4);
  } else {  // LONG1: shortest little-endian two's complement
    int bytes = 8;
    while (bytes > 1) {
      int64_t shifted = v >> (8 * (bytes - 1) - 1);  // the top byte and the next sign bit
      if (shifted != 0 && shifted != -1) break;
      --bytes;
    }
    out_ += '\x8a';
    out_ += static_cast<char>(bytes);
    put_le(out_, static_cast<uint64_t>(v), bytes);
  }
}

void PickleWriter::floating(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  out_ += 'G';
  for (int k = 7; k >= 0; --k) out_ += static_cast<char>((bits >> (8 * k)) & 0xff);  // big-endian
}

void PickleWriter::string(const std::string& utf8) {
  out_ += 'X';
  put_le(out_, utf8.size(), 4);
  out_ += utf8;
}

void PickleWriter::global(const std::string& module, const std::string& name) {
  out_ += 'c' + module + '\n' + name + '\n';
}

void PickleWriter::mark() { out_ += '('; }
void PickleWriter::tuple() { out_ += 't'; }
void PickleWriter::empty_tuple() { out_ += ')'; }
void PickleWriter::empty_list() { out_ += ']'; }
void PickleWriter::appends() { out_ += 'e'; }
void PickleWriter::empty_dict() { out_ += '}'; }
void PickleWriter::setitems() { out_ += 'u'; }
void PickleWriter::reduce() { out_ += 'R'; }
void PickleWriter::persistent_id() { out_ += 'Q'; }

std::string PickleWriter::finish() {
  out_ += '.';
  std::string done = std::move(out_);
  out_.clear();
  return done;
}

}  // namespace cppdet::io
