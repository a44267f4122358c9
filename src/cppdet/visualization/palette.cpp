#include "cppdet/visualization/palette.h"

#include <random>

namespace cppdet::visualization {

std::vector<Rgb> make_palette(const std::optional<Rgb>& fixed, size_t num_classes) {
  if (fixed) return std::vector<Rgb>(num_classes, *fixed);
  // numpy's legacy seeding of an int is MT19937's init_genrand, and randint(0, 256) keeps the
  // low 8 bits of each 32-bit draw (masked sampling never rejects for a power-of-two range).
  std::mt19937 engine(42);
  std::vector<Rgb> palette(num_classes);
  for (Rgb& c : palette)
    for (uint8_t& v : c) v = static_cast<uint8_t>(engine() & 0xFFu);
  return palette;
}

}  // namespace cppdet::visualization
