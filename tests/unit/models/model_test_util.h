#pragma once
// Shared helpers of the model tests: reading config fixtures, building detectors and the
// oracle's key manifests.
#include <torch/torch.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cppdet/config/config_file.h"
#include "cppdet/config/value.h"
#include "cppdet/models/detector.h"
#include "support/test_support.h"

namespace cppdet::testing {

// The `model` dict of tests/fixtures/configs/visible/<name>.json (mmcv's merged config).
inline config::Value visible_model_config(const std::string& name) {
  const config::Value cfg = config::value_from_tagged_json(read_text(fixture("configs/visible/" + name + ".json")));
  return cfg.as_dict().at("model");
}

struct KeyRow {
  std::string key;
  std::vector<int64_t> shape;  // empty for 0-d
  std::string dtype;
};

// A key manifest (.tsv with a header line): key, shape ("AxB", "scalar"), dtype.
inline std::vector<KeyRow> read_key_rows(const std::string& path) {
  std::ifstream f(path);
  std::vector<KeyRow> rows;
  std::string line;
  std::getline(f, line);  // header
  while (std::getline(f, line)) {
    std::stringstream ss(line);
    KeyRow row;
    std::string shape;
    std::getline(ss, row.key, '\t');
    std::getline(ss, shape, '\t');
    std::getline(ss, row.dtype, '\t');
    if (shape != "scalar") {
      std::stringstream dims(shape);
      std::string d;
      while (std::getline(dims, d, 'x')) row.shape.push_back(std::stoll(d));
    }
    rows.push_back(row);
  }
  return rows;
}

// tests/fixtures/models/keys/<config>.tsv.
inline std::vector<KeyRow> read_key_manifest(const std::string& config_name) {
  return read_key_rows(fixture("models/keys/" + config_name + ".tsv"));
}

}  // namespace cppdet::testing
