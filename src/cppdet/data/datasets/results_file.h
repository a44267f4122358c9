#pragma once
// The raw test results file of `cppdet test --out FILE.json`, read back by
// `cppdet eval-results` to evaluate again without the model (mmdet's results.pkl). JSON:
//   {"format": "cppdet-test-results", "version": 1,
//    "classes": ["person", ...],
//    "images": [{"id": 397133, "filename": "000000397133.jpg",
//                "bbox_result": [[[x1, y1, x2, y2, score], ...], ...],       // one list per class
//                "segm_result": [[{"size": [h, w], "counts": "..."}, ...], ...]}]}  // mask models only
// Boxes are the float32 values in original-image pixels (exact: every float32 is a double);
// masks are COCO RLE with pycocotools' compressed counts string; images are in dataset order.
#include <string>
#include <vector>

#include "cppdet/data/datasets/detection_dataset.h"

namespace cppdet::data {

struct ResultsFile {
  std::vector<std::string> classes;
  std::vector<int64_t> image_ids;
  std::vector<std::string> filenames;
  std::vector<ImageDetections> results;
};

// Writes (atomically) the results of `dataset`'s images, in order.
void write_results_file(const std::string& path, const DetectionDataset& dataset,
                        const std::vector<ImageDetections>& results);
// Reads a file written by write_results_file; FileFormatError naming the file and the entry.
ResultsFile read_results_file(const std::string& path);
// Throws UserError naming the file and the first image whose id or file name differs from
// the dataset (or when the image counts differ).
void check_results_match(const ResultsFile& file, const DetectionDataset& dataset, const std::string& path);

}  // namespace cppdet::data
