// dump_json / dump_python / value_from_tagged_json, and Python's float repr.
#include <gtest/gtest.h>

#include <cmath>

#include "cppdet/config/config_file.h"
#include "cppdet/config/python_repr.h"
#include "cppdet/core/error.h"
#include "strict_equal.h"

namespace cppdet::config {
namespace {

using testing::first_difference;

TEST(PythonRepr, FloatsLikePython) {
  // Expected strings are Python 3's repr() of the same doubles.
  EXPECT_EQ(python_float_repr(1.0), "1.0");
  EXPECT_EQ(python_float_repr(0.1), "0.1");
  EXPECT_EQ(python_float_repr(0.0001), "0.0001");
  EXPECT_EQ(python_float_repr(1e-05), "1e-05");
  EXPECT_EQ(python_float_repr(1.5e-07), "1.5e-07");
  EXPECT_EQ(python_float_repr(1e16), "1e+16");
  EXPECT_EQ(python_float_repr(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(python_float_repr(123.675), "123.675");
  EXPECT_EQ(python_float_repr(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(python_float_repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(python_float_repr(-0.0), "-0.0");
  EXPECT_EQ(python_float_repr(1e100), "1e+100");
  EXPECT_EQ(python_float_repr(HUGE_VAL), "inf");
  EXPECT_EQ(python_float_repr(std::nan("")), "nan");
}

TEST(PythonRepr, ValuesLikePython) {
  Value v = value_from_tagged_json(R"({"a": [1, 2.0, "it's", "x"], "t": {"__tuple__": [1]}, "n": null, "b": true})");
  EXPECT_EQ(python_repr(v), "{'a': [1, 2.0, \"it's\", 'x'], 't': (1,), 'n': None, 'b': True}");
  EXPECT_EQ(python_str_repr("a\nb\\'\""), "'a\\nb\\\\\\'\"'");
}

Value sample() {
  return value_from_tagged_json(R"({
    "model": {"type": "X", "sizes": {"__tuple__": [1, 2]}, "one": {"__tuple__": [3]}, "empty": {"__tuple__": []},
              "f": [1.0, 0.1, 1e-05, -0.0, {"__float__": "inf"}, {"__float__": "-inf"}], "i": [-1, 9223372036854775807],
              "odd keys": {"a.b": 1, "class": 2, "": 3}, "s": "quote ' and \" \\ \n \u00e9 \u0001", "none": null,
              "nested": [[{"k": []}], {}]},
    "long_list": [[1333, 640], [1333, 672], [1333, 704], [1333, 736], [1333, 768], [1333, 800], [1333, 832]],
    "flag": false})");
}

TEST(Dump, JsonRoundTrip) {
  Value v = sample();
  std::string text = dump_json(v);
  EXPECT_NE(text.find("\"__tuple__\""), std::string::npos);
  EXPECT_NE(text.find("1e-05"), std::string::npos);
  EXPECT_EQ(first_difference(value_from_tagged_json(text), v), "");
  // Ints stay ints and floats stay floats.
  EXPECT_EQ(dump_json(value_from_tagged_json(R"({"a": 1, "b": 1.0})")), "{\n  \"a\": 1,\n  \"b\": 1.0\n}\n");
}

TEST(Dump, PythonRoundTrip) {
  Value v = sample();
  std::string text = dump_python(v);
  EXPECT_EQ(first_difference(parse_config_text(text, "dump.py"), v), "") << text;
  EXPECT_NE(text.find("model = {\n    'type': 'X',"), std::string::npos) << text;  // 'odd keys' is no identifier
  EXPECT_NE(text.find("'nested': [[dict(k=[])], dict()]"), std::string::npos) << text;
  EXPECT_NE(text.find("{'a.b': 1, 'class': 2, '': 3}"), std::string::npos) << text;
  EXPECT_EQ(dump_python(value_from_tagged_json(R"({"a": 1, "b": [1, 2]})")), "a = 1\nb = [1, 2]\n");
}

TEST(Dump, PythonRejectsNonIdentifierTopLevelKeys) {
  EXPECT_THROW(dump_python(value_from_tagged_json(R"({"a b": 1})")), ConfigError);
}

TEST(Dump, TaggedJsonErrors) {
  EXPECT_THROW(value_from_tagged_json("{"), ConfigError);
  EXPECT_THROW(value_from_tagged_json(R"({"__float__": "big"})"), ConfigError);
  EXPECT_THROW(value_from_tagged_json("18446744073709551615"), ConfigError);
}

}  // namespace
}  // namespace cppdet::config
