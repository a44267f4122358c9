// libFuzzer target: the pickle reader and both checkpoint containers on arbitrary bytes.
// Any exception other than FileFormatError, any crash, hang or leak is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cppdet/core/error.h"
#include "cppdet/io/checkpoint.h"
#include "cppdet/io/pickle_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    cppdet::io::pickle::read_pickle(bytes, 0, "fuzz.pkl");
  } catch (const cppdet::FileFormatError&) {
  }
  try {
    cppdet::io::read_checkpoint_bytes(bytes, "fuzz.pth");
  } catch (const cppdet::FileFormatError&) {
  }
  return 0;
}
