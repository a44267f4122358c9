#include "cppdet/data/datasets/coco_results.h"

#include <ostream>

#include "cppdet/config/python_repr.h"
#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"

namespace cppdet::data {

using evaluation::CocoAnnotation;
using evaluation::CocoAnnotationStore;
using evaluation::SegmentationKind;

CocoResultRecords coco_result_records(const std::vector<ImageDetections>& results, const std::vector<int64_t>& img_ids,
                                      const std::vector<int64_t>& cat_ids) {
  if (results.size() != img_ids.size())
    throw UserError("results hold " + std::to_string(results.size()) + " images, the dataset " +
                    std::to_string(img_ids.size()));
  CocoResultRecords out;
  for (size_t img = 0; img < results.size(); ++img) {
    const ImageDetections& r = results[img];
    for (size_t label = 0; label < r.bboxes.size(); ++label) {
      const torch::Tensor& boxes = r.bboxes[label];
      if (boxes.size(0) == 0) continue;
      if (label >= cat_ids.size())
        throw UserError("results have detections of class " + std::to_string(label) + " but the annotation file has only " +
                        std::to_string(cat_ids.size()) + " categories of the dataset's classes");
      const float* p = boxes.data_ptr<float>();
      for (int64_t i = 0; i < boxes.size(0); ++i) {
        const float* b = p + i * 5;
        CocoAnnotation a;
        a.image_id = img_ids[img];
        a.category_id = cat_ids[label];
        const double x1 = b[0], y1 = b[1], x2 = b[2], y2 = b[3];
        a.bbox = {x1, y1, x2 - x1, y2 - y1};
        a.has_bbox = true;
        a.score = b[4];
        a.has_score = true;
        out.bbox.annotations.push_back(a);
        if (r.has_masks()) {
          const evaluation::Rle& rle = r.masks.at(label).at(static_cast<size_t>(i));
          a.segmentation = SegmentationKind::kRleCounts;
          a.rle_h = rle.h;
          a.rle_w = rle.w;
          a.seg_begin = out.segm.counts.size();
          a.seg_size = static_cast<uint32_t>(rle.counts.size());
          out.segm.counts.insert(out.segm.counts.end(), rle.counts.begin(), rle.counts.end());
          out.segm.annotations.push_back(a);
        }
      }
    }
  }
  return out;
}

void write_coco_results_json(const std::string& path, const CocoAnnotationStore& records) {
  using config::python_float_repr;
  write_file_atomically(path, [&](std::ostream& out) {
    out << "[";
    for (size_t i = 0; i < records.annotations.size(); ++i) {
      const CocoAnnotation& a = records.annotations[i];
      out << (i ? ", " : "") << "{\"image_id\": " << a.image_id << ", \"bbox\": [" << python_float_repr(a.bbox[0]) << ", "
          << python_float_repr(a.bbox[1]) << ", " << python_float_repr(a.bbox[2]) << ", " << python_float_repr(a.bbox[3])
          << "], \"score\": " << python_float_repr(a.score) << ", \"category_id\": " << a.category_id;
      if (a.segmentation == SegmentationKind::kRleCounts) {
        evaluation::Rle rle{a.rle_h, a.rle_w,
                            std::vector<uint32_t>(records.counts.begin() + static_cast<std::ptrdiff_t>(a.seg_begin),
                                                  records.counts.begin() + static_cast<std::ptrdiff_t>(a.seg_begin + a.seg_size))};
        std::string counts;
        for (char c : evaluation::rle_to_string(rle)) {
          if (c == '\\' || c == '"') counts += '\\';
          counts += c;
        }
        out << ", \"segmentation\": {\"size\": [" << a.rle_h << ", " << a.rle_w << "], \"counts\": \"" << counts << "\"}";
      }
      out << "}";
    }
    out << "]";
  });
}

}  // namespace cppdet::data
