#pragma once
// Test helpers: run Debian's python3-torch as the reference and compare what it finds in a
// checkpoint (tests/fixtures/io/dump_checkpoint.py's JSON) with what cppdet read or wrote.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/io/saved_value.h"

namespace cppdet::testing {

// A python3 that can `import torch` ("" when none: tests GTEST_SKIP).
const std::string& python_with_torch();

// Runs `python <script in tests/fixtures/io> <args>`; returns its stdout, failing the test
// (and returning "") when it exits non-zero.
std::string run_python_script(const std::string& script, const std::string& args);

// dump_checkpoint.py's JSON for each of `paths` ({path: object}), from one Python run.
nlohmann::json python_dump(const std::vector<std::string>& paths);

// The python-side value at `key` of a {"__dict__": [[k, v], ...]} object (null if absent).
const nlohmann::json& dict_entry(const nlohmann::json& dict, const nlohmann::json& key);

// Expect a tensor to equal the python dump's {"__tensor__": {...}} exactly.
void expect_tensor_equal(const torch::Tensor& actual, const nlohmann::json& expected, const std::string& what);
// Expect meta / optimizer values to equal the python dump (tuples, order, non-str keys).
void expect_value_equal(const config::Value& actual, const nlohmann::json& expected, const std::string& what);
void expect_saved_equal(const io::SavedValue& actual, const nlohmann::json& expected, const std::string& what);

}  // namespace cppdet::testing
