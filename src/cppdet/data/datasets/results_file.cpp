#include "cppdet/data/datasets/results_file.h"

#include <nlohmann/json.hpp>

#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"

namespace cppdet::data {

using nlohmann::json;

namespace {

constexpr const char* kFormat = "cppdet-test-results";

}  // namespace

void write_results_file(const std::string& path, const DetectionDataset& dataset,
                        const std::vector<ImageDetections>& results) {
  if (results.size() != dataset.size())
    throw UserError("write_results_file: " + std::to_string(results.size()) + " results for " +
                    std::to_string(dataset.size()) + " images");
  json doc;
  doc["format"] = kFormat;
  doc["version"] = 1;
  doc["classes"] = dataset.classes();
  json images = json::array();
  for (size_t i = 0; i < results.size(); ++i) {
    const ImageDetections& r = results[i];
    json image;
    image["id"] = dataset.image_info(i).id;
    image["filename"] = dataset.image_info(i).filename;
    json bbox = json::array();
    for (const torch::Tensor& b : r.bboxes) {
      json rows = json::array();
      const float* p = b.data_ptr<float>();
      for (int64_t k = 0; k < b.size(0); ++k)
        rows.push_back({double(p[k * 5]), double(p[k * 5 + 1]), double(p[k * 5 + 2]), double(p[k * 5 + 3]), double(p[k * 5 + 4])});
      bbox.push_back(std::move(rows));
    }
    image["bbox_result"] = std::move(bbox);
    if (r.has_masks()) {
      json segm = json::array();
      for (const auto& class_masks : r.masks) {
        json rles = json::array();
        for (const evaluation::Rle& rle : class_masks)
          rles.push_back({{"size", {rle.h, rle.w}}, {"counts", evaluation::rle_to_string(rle)}});
        segm.push_back(std::move(rles));
      }
      image["segm_result"] = std::move(segm);
    }
    images.push_back(std::move(image));
  }
  doc["images"] = std::move(images);
  write_file_atomically(path, [&](std::ostream& out) { out << doc.dump() << "\n"; });
}

ResultsFile read_results_file(const std::string& path) {
  const std::string text = read_file(path);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw FileFormatError(path + ": not a JSON file: " + e.what());
  }
  if (!doc.is_object() || doc.value("format", "") != kFormat)
    throw FileFormatError(path + ": not a cppdet test results file (expected \"format\": \"" + kFormat +
                          "\", as written by `cppdet test --out`)");
  ResultsFile out;
  std::string where = path;
  try {
    out.classes = doc.at("classes").get<std::vector<std::string>>();
    const json& images = doc.at("images");
    for (size_t i = 0; i < images.size(); ++i) {
      where = path + ": images[" + std::to_string(i) + "]";
      const json& image = images[i];
      out.image_ids.push_back(image.at("id").get<int64_t>());
      out.filenames.push_back(image.at("filename").get<std::string>());
      ImageDetections r;
      for (const json& rows : image.at("bbox_result")) {
        torch::Tensor t = torch::zeros({static_cast<int64_t>(rows.size()), 5}, torch::kFloat32);
        float* p = t.data_ptr<float>();
        for (size_t k = 0; k < rows.size(); ++k) {
          if (!rows[k].is_array() || rows[k].size() != 5) throw FileFormatError(where + ": a box is not [x1, y1, x2, y2, score]");
          for (size_t c = 0; c < 5; ++c) p[k * 5 + c] = static_cast<float>(rows[k][c].get<double>());
        }
        r.bboxes.push_back(t);
      }
      if (image.contains("segm_result")) {
        const json& segm = image.at("segm_result");
        if (segm.size() != r.bboxes.size()) throw FileFormatError(where + ": segm_result and bbox_result differ in classes");
        for (size_t c = 0; c < segm.size(); ++c) {
          std::vector<evaluation::Rle> rles;
          for (const json& m : segm[c]) {
            const auto size = m.at("size").get<std::vector<uint32_t>>();
            if (size.size() != 2) throw FileFormatError(where + ": an RLE \"size\" is not [h, w]");
            rles.push_back(evaluation::rle_from_string(m.at("counts").get<std::string>(), size[0], size[1]));
          }
          if (static_cast<int64_t>(rles.size()) != r.bboxes[c].size(0))
            throw FileFormatError(where + ": class " + std::to_string(c) + " has a different number of masks and boxes");
          r.masks.push_back(std::move(rles));
        }
      }
      out.results.push_back(std::move(r));
    }
  } catch (const json::exception& e) {
    throw FileFormatError(where + ": " + e.what());
  }
  return out;
}

void check_results_match(const ResultsFile& file, const DetectionDataset& dataset, const std::string& path) {
  if (file.results.size() != dataset.size())
    throw UserError(path + ": holds results of " + std::to_string(file.results.size()) + " images but the dataset (" +
                    dataset.options().ann_file + ") has " + std::to_string(dataset.size()));
  for (size_t i = 0; i < file.results.size(); ++i) {
    const ImageInfo& info = dataset.image_info(i);
    if (file.image_ids[i] != info.id || file.filenames[i] != info.filename)
      throw UserError(path + ": image " + std::to_string(i) + " is id " + std::to_string(file.image_ids[i]) + " ('" +
                      file.filenames[i] + "') but the dataset's image " + std::to_string(i) + " is id " +
                      std::to_string(info.id) + " ('" + info.filename + "')");
  }
}

}  // namespace cppdet::data
