#pragma once
// Colours for drawing detections, as mmdet 2.25's get_palette: a fixed colour for every
// class, or the "random" palette (numpy's RandomState(42).randint(0, 256, (n, 3)), which is
// reproduced exactly). Colours are RGB triples, as in mmdet.
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace cppdet::visualization {

using Rgb = std::array<uint8_t, 3>;

// `num_classes` colours: all `fixed` when given, else the seeded random palette.
std::vector<Rgb> make_palette(const std::optional<Rgb>& fixed, size_t num_classes);

}  // namespace cppdet::visualization
