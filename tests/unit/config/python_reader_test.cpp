// The .py reader: every construct of the supported subset, and one test per error class.
#include <gtest/gtest.h>

#include <cmath>

#include "cppdet/config/config_file.h"
#include "cppdet/core/error.h"
#include "strict_equal.h"

namespace cppdet::config {
namespace {

using testing::first_difference;

Value parse(const std::string& text) { return parse_config_text(text, "test.py"); }

// The config written as tagged JSON, for compact expectations.
void expect_config(const std::string& py, const std::string& json) {
  Value got = parse(py);
  Value want = value_from_tagged_json(json);
  EXPECT_EQ(first_difference(got, want), "") << py;
}

std::string error_of(const std::string& text, const std::string& filename = "test.py") {
  try {
    parse_config_text(text, filename);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(PythonReader, Literals) {
  expect_config("a = 1\nb = 1.\nc = .5\nd = 1e-4\ne = 1_000\nf = 0x10\ng = 0o17\nh = 0b101\ni = 0\nj = 00\n",
                R"({"a": 1, "b": 1.0, "c": 0.5, "d": 0.0001, "e": 1000, "f": 16, "g": 15, "h": 5, "i": 0, "j": 0})");
  expect_config("a = True\nb = False\nc = None\n", R"({"a": true, "b": false, "c": null})");
  expect_config("a = 2.5E+3\nb = 1_0.0_1\n", R"({"a": 2500.0, "b": 10.01})");
}

TEST(PythonReader, Strings) {
  expect_config(R"(a = 'x'
b = "y"
c = 'it\'s' "fine"
d = 'a' 'b' "c"
e = 'tab\there\nline\\ \x41\u00e9\101'
f = r'raw\n'
g = """tri
ple"""
h = '''x'y"z'''
i = u'u'
j = 'unknown \d escape'
)",
                R"({"a": "x", "b": "y", "c": "it'sfine", "d": "abc", "e": "tab\there\nline\\ A\u00e9A",
                    "f": "raw\\n", "g": "tri\nple", "h": "x'y\"z", "i": "u", "j": "unknown \\d escape"})");
}

TEST(PythonReader, Containers) {
  expect_config("a = [1, 2,]\nb = (1,)\nc = ()\nd = (1)\ne = 1, 2\nf = []\ng = dict()\nh = {}\n",
                R"({"a": [1, 2], "b": {"__tuple__": [1]}, "c": {"__tuple__": []}, "d": 1,
                    "e": {"__tuple__": [1, 2]}, "f": [], "g": {}, "h": {}})");
  expect_config("a = {'x.y': 1, \"z\": [2]}\nb = dict(k=1, j=dict(m=(2, 3)))\n",
                R"({"a": {"x.y": 1, "z": [2]}, "b": {"k": 1, "j": {"m": {"__tuple__": [2, 3]}}}})");
  expect_config("a = list((1, 2))\nb = tuple([1])\nc = list()\nd = dict([('a', 1)])\ne = dict({'x': 1}, y=2)\n",
                R"({"a": [1, 2], "b": {"__tuple__": [1]}, "c": [], "d": {"a": 1}, "e": {"x": 1, "y": 2}})");
}

TEST(PythonReader, NamesAndUnpacking) {
  expect_config(R"(
img_norm_cfg = dict(mean=[1.0, 2.0], std=[3.0, 4.0], to_rgb=True)
pipeline = [dict(type='Normalize', **img_norm_cfg), dict(type='Pad')]
data_root = 'data/coco/'
ann = data_root + 'ann.json'
mean = img_norm_cfg['mean']
first = mean[0]
last = mean[-1]
merged = {**img_norm_cfg, 'to_rgb': False}
spliced = [0, *mean]
)",
                R"({"img_norm_cfg": {"mean": [1.0, 2.0], "std": [3.0, 4.0], "to_rgb": true},
                    "pipeline": [{"type": "Normalize", "mean": [1.0, 2.0], "std": [3.0, 4.0], "to_rgb": true},
                                 {"type": "Pad"}],
                    "data_root": "data/coco/", "ann": "data/coco/ann.json", "mean": [1.0, 2.0],
                    "first": 1.0, "last": 2.0,
                    "merged": {"mean": [1.0, 2.0], "std": [3.0, 4.0], "to_rgb": false},
                    "spliced": [0, 1.0, 2.0]})");
}

TEST(PythonReader, ArithmeticValues) {
  expect_config("x = 640\na = 1 / 8\nb = 7 // 2\nc = -7 // 2\nd = -7 % 3\ne = 7.5 // 2\nf = -x // 2\n"
                "g = (1 + 2) * 3 - 4\nh = 2 * 3.0\ni = -(-3)\nj = +2\nk = 7 % -3\nl = -7.5 % 2\n",
                R"({"x": 640, "a": 0.125, "b": 3, "c": -4, "d": 2, "e": 3.0, "f": -320, "g": 5, "h": 6.0,
                    "i": 3, "j": 2, "k": -2, "l": 0.5})");
  expect_config("a = ['bu'] * 3\nb = [1.0] * 2 + [0.1]\nc = 'ab' * 2\nd = 2 * (1,)\ne = [1] * -1\nf = (1,) + (2,)\n",
                R"({"a": ["bu", "bu", "bu"], "b": [1.0, 1.0, 0.1], "c": "abab", "d": {"__tuple__": [1, 1]},
                    "e": [], "f": {"__tuple__": [1, 2]}})");
  expect_config("a = True + 1\nb = 0.1 + 0.2\n", R"({"a": 2, "b": 0.30000000000000004})");
}

TEST(PythonReader, StatementsAndLayout) {
  expect_config("\"\"\"Module docstring.\"\"\"\n# comment\na = b = 1 ; c = 2\nd = [1,\n  2,  # inside\n 3]\n"
                "e = 1 + \\\n    2\n__private = 3\n_base_x = 4\nf = __private\n",
                R"({"a": 1, "b": 1, "c": 2, "d": [1, 2, 3], "e": 3, "_base_x": 4, "f": 3})");
  // Re-assignment keeps the first position with the new value, like a module's namespace.
  expect_config("a = 1\nb = 2\na = 3\n", R"({"a": 3, "b": 2})");
  expect_config("a = float('inf')\nb = float('-inf')\nc = float(2)\n",
                R"({"a": {"__float__": "inf"}, "b": {"__float__": "-inf"}, "c": 2.0})");
  expect_config("", "{}");
  expect_config("a = 1\r\nb = 2\r\n", R"({"a": 1, "b": 2})");
}

TEST(PythonReaderErrors, UnsupportedCall) {
  EXPECT_EQ(error_of("a = 1\nb = range(3)\n"),
            "test.py:2:5: unsupported construct: call of 'range' (only dict(), list(), tuple() and float() may be called)");
}

TEST(PythonReaderErrors, Import) {
  EXPECT_EQ(error_of("import os\n"), "test.py:1:1: unsupported construct: 'import' statement");
  EXPECT_EQ(error_of("x = 1\nfrom os import path\n"), "test.py:2:1: unsupported construct: 'from' statement");
}

TEST(PythonReaderErrors, Lambda) {
  EXPECT_EQ(error_of("f = lambda x: x\n"), "test.py:1:5: unsupported construct: lambda");
}

TEST(PythonReaderErrors, OtherUnsupportedConstructs) {
  EXPECT_EQ(error_of("a = [i for i in b]\n"), "test.py:1:8: unsupported construct: list comprehension");
  EXPECT_EQ(error_of("a = {k: 1 for k in b}\n"), "test.py:1:11: unsupported construct: dict comprehension");
  EXPECT_EQ(error_of("a = dict()\nb = a.copy()\n"), "test.py:2:6: unsupported construct: attribute access '.copy'");
  EXPECT_EQ(error_of("a = f'x'\n"), "test.py:1:5: unsupported construct: f-string");
  EXPECT_EQ(error_of("a = b'x'\n"), "test.py:1:5: unsupported construct: bytes literal");
  EXPECT_EQ(error_of("a = 1 if 2 else 3\n"), "test.py:1:7: unsupported construct: conditional expression");
  EXPECT_EQ(error_of("a = 1 == 2\n"), "test.py:1:7: unsupported construct: comparison '=='");
  EXPECT_EQ(error_of("a = 2 ** 3\n"), "test.py:1:7: unsupported construct: power operator '**'");
  EXPECT_EQ(error_of("a = [1]\na[0] = 2\n"), "test.py:2:1: unsupported construct: assignment to a target other than a plain name");
  EXPECT_EQ(error_of("a = 1\na += 2\n"), "test.py:2:3: unsupported construct: augmented assignment '+='");
  EXPECT_EQ(error_of("def f():\n  pass\n"), "test.py:1:1: unsupported construct: 'def' statement");
  EXPECT_EQ(error_of("a = {1, 2}\n"), "test.py:1:6: unsupported construct: set");
  EXPECT_EQ(error_of("a = {1: 2}\n"), "test.py:1:6: unsupported construct: dict key of type int (keys must be str)");
  EXPECT_EQ(error_of("a = [1][0:1]\n"), "test.py:1:10: unsupported construct: slice");
  EXPECT_EQ(error_of("a = 'x %s' % 1\n"), "test.py:1:12: unsupported construct: %-formatting of strings");
  EXPECT_EQ(error_of("print(1)\n"), "test.py:1:1: unsupported construct: call of 'print' (only dict(), list(), tuple() and float() may be called)");
  EXPECT_EQ(error_of("a = 1\na\n"), "test.py:2:1: unsupported construct: expression statement (only `name = value` statements are allowed)");
}

TEST(PythonReaderErrors, SyntaxErrors) {
  EXPECT_EQ(error_of("a = (1, 2\nb = 3\n"), "test.py:1:5: syntax error: '(' was never closed");
  EXPECT_EQ(error_of("a = 1)\n"), "test.py:1:6: syntax error: unmatched ')'");
  EXPECT_EQ(error_of("a = [1, 2)\n"), "test.py:1:10: syntax error: closing parenthesis ')' does not match opening parenthesis '[' on line 1");
  EXPECT_EQ(error_of("a = \n"), "test.py:1:5: syntax error: expected an expression, got end of line");
  EXPECT_EQ(error_of("a = 'abc\n"), "test.py:1:5: syntax error: unterminated string literal");
  EXPECT_EQ(error_of("a = 1\n  b = 2\n"), "test.py:2:1: syntax error: unexpected indent");
  EXPECT_EQ(error_of("a = 007\n"), "test.py:1:5: syntax error: leading zeros in decimal integer literals are not permitted");
  EXPECT_EQ(error_of("a = 1 2\n"), "test.py:1:7: syntax error: expected end of statement, got '2'");
  EXPECT_EQ(error_of("a = dict(x=1, x=2)\n"), "test.py:1:15: syntax error: keyword argument repeated: x");
  EXPECT_EQ(error_of("a = $\n"), "test.py:1:5: syntax error: invalid character '$'");
  EXPECT_EQ(error_of("a = 1\nb = 2 \\ 3\n"), "test.py:2:7: syntax error: unexpected character after line continuation character");
  EXPECT_EQ(error_of(std::string("a = '\xff'\n")), "test.py:1:6: syntax error: the file is not valid UTF-8");
}

TEST(PythonReaderErrors, UndefinedName) {
  EXPECT_EQ(error_of("a = dict(x=b)\n"),
            "test.py:1:12: name 'b' is not defined (only names assigned earlier in the same file are visible; "
            "a _base_ file's variables are not)");
}

TEST(PythonReaderErrors, RuntimeErrors) {
  EXPECT_EQ(error_of("a = 1 / 0\n"), "test.py:1:7: division by zero");
  EXPECT_EQ(error_of("a = 'x' + 1\n"), "test.py:1:9: unsupported operand type(s) for +: 'str' and 'int'");
  EXPECT_EQ(error_of("a = [1]\nb = a[3]\n"), "test.py:2:7: list index out of range");
  EXPECT_EQ(error_of("a = dict(x=1)\nb = a['y']\n"), "test.py:2:7: KeyError: 'y'");
  EXPECT_EQ(error_of("a = [1]\nb = dict(**a)\n"), "test.py:2:10: argument after ** must be a dict, not list");
  EXPECT_EQ(error_of("a = dict(x=1)\nb = dict(x=2, **a)\n"), "test.py:2:15: dict() got multiple values for keyword argument 'x'");
  EXPECT_EQ(error_of("a = 9223372036854775807 + 1\n"), "test.py:1:25: integer overflow (cppdet keeps ints in 64 bits)");
}

TEST(PythonReader, StringIndexingCountsCodePoints) {
  Value v = parse("s = 'a\u00e9\u20ac\U0001F600b'\nx = [s[0], s[1], s[2], s[3], s[4], s[-1], s[-2], s[-5]]\n");
  EXPECT_EQ(first_difference(v.as_dict().at("x"),
                             value_from_tagged_json(R"(["a", "\u00e9", "\u20ac", "\ud83d\ude00", "b", "b", "\ud83d\ude00", "a"])")),
            "");
  EXPECT_EQ(error_of("s = 'ab'\nc = s[2]\n"), "test.py:2:7: string index out of range");
  EXPECT_EQ(error_of("s = ''\nc = s[-1]\n"), "test.py:2:7: string index out of range");
}

TEST(PythonReaderErrors, ResourceLimits) {
  std::string deep = "a = " + std::string(150, '[') + std::string(150, ']') + "\n";
  EXPECT_NE(error_of(deep).find("test.py:1:"), std::string::npos);
  std::string nested = "a = []\n";
  for (int i = 0; i < 120; ++i) nested += "a = [a]\n";
  EXPECT_NE(error_of(nested).find("values nested deeper than 100 levels"), std::string::npos);
  EXPECT_NE(error_of("a = [0] * 1000000000\n").find("config too large"), std::string::npos);
  EXPECT_NE(error_of("a = [0] * 100000\nb = [a] * 100000\n").find("config too large"), std::string::npos);
  // Each name of a chained assignment holds a copy (fuzz_config: accepted, then its dump was not).
  EXPECT_NE(error_of("a = b = [0] * 333333\n").find("config too large"), std::string::npos);
  // Repeating an empty sequence is free in Python and must be here too (fuzz_config once hung on it).
  Value empty = parse("a = [] * 233333333333\nb = '' * 233333333333\nc = () * 9223372036854775807\n");
  EXPECT_EQ(first_difference(empty, value_from_tagged_json(R"({"a": [], "b": "", "c": {"__tuple__": []}})")), "");
  EXPECT_NE(error_of("a = " + std::string(5000, '-') + "1\n").find("nested too deeply"), std::string::npos);
}

TEST(ConfigText, JsonAndYaml) {
  Value j = parse_config_text(R"({"b": 1, "a": [1.0, {"c": null}], "t": true})", "x.json");
  EXPECT_EQ(first_difference(j, value_from_tagged_json(R"({"b": 1, "a": [1.0, {"c": null}], "t": true})")), "");
  Value y = parse_config_text(
      "b: 1\na: [1.0, 2]\nc: ~\nd: yes\ne: 'yes'\nf: 1e3\ng: 1.0e+3\nh: 0x10\ni: .inf\nt: !!python/tuple [1, 2]\n"
      "n:\n  m: text\n",
      "x.yaml");
  EXPECT_EQ(first_difference(y, value_from_tagged_json(R"({"b": 1, "a": [1.0, 2], "c": null, "d": true, "e": "yes",
      "f": "1e3", "g": 1000.0, "h": 16, "i": {"__float__": "inf"}, "t": {"__tuple__": [1, 2]}, "n": {"m": "text"}})")),
            "");
  EXPECT_EQ(parse_config_text("", "x.yml").as_dict().size(), 0u);
  try {
    parse_config_text("{\"a\": }", "bad.json");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("bad.json:1:7: syntax error", 0), 0u) << e.what();
  }
  try {
    parse_config_text("a: [1, 2\n", "bad.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("bad.yaml:", 0), 0u) << e.what();
  }
  EXPECT_THROW(parse_config_text("[1, 2]", "list.json"), ConfigError);
  EXPECT_THROW(parse_config_text("a = 1", "x.ini"), ConfigError);
  EXPECT_EQ(parse_config_text("a = 1", "dumped.txt").as_dict().at("a").as_int(), 1);
}

}  // namespace
}  // namespace cppdet::config
