#include "python_torch.h"

#include <fstream>
#include <sstream>

#include "cppdet/io/checkpoint.h"
#include "support/test_support.h"

namespace cppdet::testing {

const std::string& python_with_torch() {
  static const std::string found = [] {
    for (const char* candidate : {"/usr/bin/python3", "python3"})
      if (run_command(std::string(candidate) +  // finds the modules without the slow import
                      " -c 'import importlib.util as u, sys; sys.exit(not (u.find_spec(\"torch\") and u.find_spec(\"numpy\")))'")
              .exit_code == 0)
        return std::string(candidate);
    return std::string();
  }();
  return found;
}

std::string run_python_script(const std::string& script, const std::string& args) {
  const std::string dir = make_temp_dir("io-py");
  const std::string out = dir + "/stdout", err = dir + "/stderr";
  CommandResult r = run_command("(" + python_with_torch() + " " + shell_quote(fixture("io/" + script)) + " " + args +
                                " > " + shell_quote(out) + " 2> " + shell_quote(err) + ")");
  std::ifstream o(out), e(err);
  std::stringstream so, se;
  so << o.rdbuf();
  se << e.rdbuf();
  if (r.exit_code != 0) {
    ADD_FAILURE() << script << " " << args << " failed (" << r.exit_code << "):\n" << se.str() << r.output;
    return "";
  }
  return so.str();
}

nlohmann::json python_dump(const std::vector<std::string>& paths) {
  std::string args;
  for (const std::string& p : paths) args += " " + shell_quote(p);
  std::string text = run_python_script("dump_checkpoint.py", args);
  return text.empty() ? nlohmann::json() : nlohmann::json::parse(text);
}

const nlohmann::json& dict_entry(const nlohmann::json& dict, const nlohmann::json& key) {
  static const nlohmann::json null;
  if (!dict.is_object() || !dict.contains("__dict__")) return null;
  for (const auto& kv : dict["__dict__"])
    if (kv[0] == key) return kv[1];
  return null;
}

void expect_tensor_equal(const torch::Tensor& actual, const nlohmann::json& expected, const std::string& what) {
  ASSERT_TRUE(expected.is_object() && expected.contains("__tensor__")) << what << ": python has " << expected.dump().substr(0, 200);
  const nlohmann::json& t = expected["__tensor__"];
  ASSERT_TRUE(actual.defined()) << what;
  EXPECT_EQ(io::dtype_name(actual.scalar_type()), t["dtype"].get<std::string>()) << what;
  ASSERT_EQ(actual.sizes().vec(), t["shape"].get<std::vector<int64_t>>()) << what;
  torch::Tensor flat = actual.flatten().to(torch::kFloat64).contiguous();
  const nlohmann::json& values = t["values"];
  ASSERT_EQ(static_cast<size_t>(flat.numel()), values.size()) << what;
  for (int64_t i = 0; i < flat.numel(); ++i) {
    double expect = values[i].is_boolean() ? (values[i].get<bool>() ? 1.0 : 0.0) : values[i].get<double>();
    ASSERT_EQ(flat[i].item<double>(), expect) << what << " element " << i;
  }
}

void expect_value_equal(const config::Value& actual, const nlohmann::json& expected, const std::string& what) {
  if (expected.is_object() && expected.contains("__dict__")) {
    ASSERT_TRUE(actual.is_dict()) << what << " is " << actual.brief();
    const config::Dict& d = actual.as_dict();
    ASSERT_EQ(d.size(), expected["__dict__"].size()) << what;
    for (size_t i = 0; i < d.size(); ++i) {
      const nlohmann::json& key = expected["__dict__"][i][0];
      EXPECT_EQ(d.keys()[i], key.is_string() ? key.get<std::string>() : key.dump()) << what;
      expect_value_equal(d.values()[i], expected["__dict__"][i][1], what + "." + d.keys()[i]);
    }
  } else if (expected.is_object() && (expected.contains("__tuple__") || expected.contains("__set__"))) {
    const bool tuple = expected.contains("__tuple__");
    ASSERT_TRUE(tuple ? actual.is_tuple() : actual.is_list()) << what << " is " << actual.brief();
    const nlohmann::json& items = expected[tuple ? "__tuple__" : "__set__"];
    ASSERT_EQ(actual.as_sequence().size(), items.size()) << what;
    for (size_t i = 0; i < items.size(); ++i) expect_value_equal(actual.as_sequence()[i], items[i], what + "[" + std::to_string(i) + "]");
  } else if (expected.is_object() && expected.contains("__object__")) {
    EXPECT_EQ(actual, config::Value("<opaque " + expected["__object__"].get<std::string>() + ">")) << what;
  } else if (expected.is_array()) {
    ASSERT_TRUE(actual.is_list()) << what << " is " << actual.brief();
    ASSERT_EQ(actual.as_sequence().size(), expected.size()) << what;
    for (size_t i = 0; i < expected.size(); ++i) expect_value_equal(actual.as_sequence()[i], expected[i], what + "[" + std::to_string(i) + "]");
  } else if (expected.is_null()) {
    EXPECT_TRUE(actual.is_none()) << what;
  } else if (expected.is_boolean()) {
    EXPECT_EQ(actual, config::Value(expected.get<bool>())) << what;
  } else if (expected.is_number_integer()) {
    ASSERT_TRUE(actual.is_int()) << what << " is " << actual.brief();
    EXPECT_EQ(actual.as_int(), expected.get<int64_t>()) << what;
  } else if (expected.is_number_float()) {
    ASSERT_TRUE(actual.is_float()) << what << " is " << actual.brief();
    EXPECT_EQ(actual.as_number(), expected.get<double>()) << what;
  } else {
    EXPECT_EQ(actual, config::Value(expected.get<std::string>())) << what;
  }
}

void expect_saved_equal(const io::SavedValue& actual, const nlohmann::json& expected, const std::string& what) {
  using K = io::SavedValue::Kind;
  if (expected.is_object() && expected.contains("__tensor__")) {
    expect_tensor_equal(actual.as_tensor(), expected, what);
  } else if (expected.is_object() && expected.contains("__dict__")) {
    ASSERT_EQ(actual.kind(), K::Dict) << what;
    const io::SavedDict& d = actual.as_dict();
    ASSERT_EQ(d.size(), expected["__dict__"].size()) << what;
    for (size_t i = 0; i < d.size(); ++i) {
      const nlohmann::json& key = expected["__dict__"][i][0];
      if (key.is_string()) EXPECT_EQ(d[i].first, io::SavedKey(key.get<std::string>())) << what;
      else EXPECT_EQ(d[i].first, io::SavedKey(key.get<int64_t>())) << what;
      expect_saved_equal(d[i].second, expected["__dict__"][i][1], what + "." + key.dump());
    }
  } else if (expected.is_object() && expected.contains("__tuple__")) {
    ASSERT_EQ(actual.kind(), K::Tuple) << what;
    for (size_t i = 0; i < expected["__tuple__"].size(); ++i) expect_saved_equal(actual.as_sequence().at(i), expected["__tuple__"][i], what);
  } else if (expected.is_array()) {
    ASSERT_EQ(actual.kind(), K::List) << what;
    ASSERT_EQ(actual.as_sequence().size(), expected.size()) << what;
    for (size_t i = 0; i < expected.size(); ++i) expect_saved_equal(actual.as_sequence()[i], expected[i], what + "[" + std::to_string(i) + "]");
  } else if (expected.is_null()) {
    EXPECT_TRUE(actual.is_none()) << what;
  } else if (expected.is_boolean()) {
    EXPECT_EQ(actual.as_bool(), expected.get<bool>()) << what;
  } else if (expected.is_number_integer()) {
    EXPECT_EQ(actual.as_int(), expected.get<int64_t>()) << what;
  } else if (expected.is_number_float()) {
    ASSERT_EQ(actual.kind(), K::Float) << what;
    EXPECT_EQ(actual.as_float(), expected.get<double>()) << what;
  } else {
    EXPECT_EQ(actual.as_string(), expected.get<std::string>()) << what;
  }
}

}  // namespace cppdet::testing
