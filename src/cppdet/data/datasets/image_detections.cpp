#include "cppdet/data/datasets/image_detections.h"

#include <cstring>

#include "cppdet/core/error.h"

namespace cppdet::data {
namespace {

void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

// Reads the encoded list front to back; any overrun is a FileFormatError.
class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}
  uint32_t u32() {
    uint32_t v;
    take(&v, sizeof v);
    return v;
  }
  void take(void* dst, size_t n) {
    if (n > bytes_.size() - pos_) throw FileFormatError("detection list: truncated at byte " + std::to_string(pos_));
    std::memcpy(dst, bytes_.data() + pos_, n);
    pos_ += n;
  }
  bool done() const { return pos_ == bytes_.size(); }

 private:
  const std::string& bytes_;
  size_t pos_ = 0;
};

}  // namespace

ImageDetections encode_detections(const DetResult& result) {
  ImageDetections out;
  for (const torch::Tensor& b : result.bboxes) out.bboxes.push_back(b.to(torch::kCPU, torch::kFloat32).contiguous());
  for (const torch::Tensor& class_masks : result.masks) {
    std::vector<evaluation::Rle> rles;
    for (int64_t i = 0; i < class_masks.size(0); ++i) {
      const torch::Tensor m = class_masks[i];
      // The row-major bytes of the [W, H] transpose are the column-major bytes of the mask.
      const torch::Tensor cm = m.to(torch::kCPU, torch::kUInt8).t().contiguous();
      rles.push_back(evaluation::rle_encode(cm.data_ptr<uint8_t>(), static_cast<uint32_t>(m.size(0)),
                                            static_cast<uint32_t>(m.size(1))));
    }
    out.masks.push_back(std::move(rles));
  }
  return out;
}

// Layout (native byte order): count; per image: classes, has_masks; per class: k, k*5 floats,
// then with masks k times (h, w, n, n counts).
std::string encode_detection_list(const std::vector<ImageDetections>& results) {
  std::string out;
  put_u32(out, static_cast<uint32_t>(results.size()));
  for (const ImageDetections& r : results) {
    put_u32(out, static_cast<uint32_t>(r.bboxes.size()));
    put_u32(out, r.has_masks() ? 1 : 0);
    for (size_t c = 0; c < r.bboxes.size(); ++c) {
      const torch::Tensor b = r.bboxes[c].to(torch::kCPU, torch::kFloat32).contiguous();
      put_u32(out, static_cast<uint32_t>(b.size(0)));
      out.append(reinterpret_cast<const char*>(b.data_ptr<float>()), static_cast<size_t>(b.numel()) * sizeof(float));
      if (!r.has_masks()) continue;
      for (const evaluation::Rle& rle : r.masks.at(c)) {
        put_u32(out, rle.h);
        put_u32(out, rle.w);
        put_u32(out, static_cast<uint32_t>(rle.counts.size()));
        out.append(reinterpret_cast<const char*>(rle.counts.data()), rle.counts.size() * sizeof(uint32_t));
      }
    }
  }
  return out;
}

std::vector<ImageDetections> decode_detection_list(const std::string& bytes) {
  Reader in(bytes);
  const uint32_t count = in.u32();
  if (count > bytes.size()) throw FileFormatError("detection list: bad count");
  std::vector<ImageDetections> out(count);
  for (ImageDetections& r : out) {
    const uint32_t classes = in.u32();
    const bool masks = in.u32() != 0;
    if (masks) r.masks.resize(classes);
    for (uint32_t c = 0; c < classes; ++c) {
      const uint32_t k = in.u32();
      if (k > bytes.size()) throw FileFormatError("detection list: bad box count");
      torch::Tensor b = torch::empty({static_cast<int64_t>(k), 5}, torch::kFloat32);
      in.take(b.data_ptr<float>(), size_t{k} * 5 * sizeof(float));
      r.bboxes.push_back(b);
      if (!masks) continue;
      for (uint32_t i = 0; i < k; ++i) {
        evaluation::Rle rle;
        rle.h = in.u32();
        rle.w = in.u32();
        const uint32_t n = in.u32();
        if (n > bytes.size()) throw FileFormatError("detection list: bad RLE length");
        rle.counts.resize(n);
        in.take(rle.counts.data(), rle.counts.size() * sizeof(uint32_t));
        r.masks[c].push_back(std::move(rle));
      }
    }
  }
  if (!in.done()) throw FileFormatError("detection list: trailing bytes");
  return out;
}

}  // namespace cppdet::data
