#pragma once
// Whether a JPEG file's data ends before its end-of-image marker — the condition libjpeg
// reports as "Premature end of JPEG file" and then decodes anyway, filling in the missing
// part of the picture (so the decode succeeds and a truncated download goes unnoticed).
#include <cstddef>
#include <cstdint>

namespace cppdet::data {

// Walks the JPEG marker segments and entropy-coded scans of `bytes` (all scans of progressive
// files too). True only for data that starts like a JPEG (SOI) and runs out before EOI;
// false for complete JPEGs and for anything that is not a JPEG.
bool jpeg_ends_prematurely(const uint8_t* bytes, size_t size);

}  // namespace cppdet::data
