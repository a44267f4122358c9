// libFuzzer target: the compressed RLE decoder and the mask API on whatever it decodes.
// Input: 2 bytes h, 2 bytes w (each mod 64), then the compressed counts string.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cppdet/evaluation/mask_rle.h"

using namespace cppdet::evaluation;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint32_t h = (data[0] | (data[1] << 8)) % 64, w = (data[2] | (data[3] << 8)) % 64;
  const std::string_view s(reinterpret_cast<const char*>(data + 4), size - 4);
  const Rle rle = rle_from_string(s, h, w);
  const Rle again = rle_from_string(rle_to_string(rle), h, w);
  if (again.counts != rle.counts) __builtin_trap();  // the string form must round-trip
  rle_area(rle);
  const BoxXywh box = rle_to_bbox(rle);
  const std::vector<uint8_t> mask = rle_decode(rle);
  const Rle encoded = rle_encode(mask.data(), h, w);
  if (rle_decode(encoded) != mask) __builtin_trap();
  rle_merge(std::vector<Rle>{rle, encoded}, false);
  rle_merge(std::vector<Rle>{rle, encoded}, true);
  rle_iou(rle, box, encoded, rle_to_bbox(encoded), false);
  rle_iou(rle, box, encoded, rle_to_bbox(encoded), true);
  return 0;
}
