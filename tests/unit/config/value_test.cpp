#include "cppdet/config/value.h"

#include <gtest/gtest.h>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"

namespace cppdet::config {
namespace {

TEST(Value, KindsAndEquality) {
  EXPECT_TRUE(Value().is_none());
  EXPECT_TRUE(Value(3).is_int());
  EXPECT_TRUE(Value(3.0).is_float());
  EXPECT_EQ(Value(1), Value(1.0));  // Python: 1 == 1.0
  EXPECT_NE(Value::list({Value(1)}), Value::tuple({Value(1)}));
  EXPECT_EQ(Value("a").type_name(), "str");
}

TEST(Dict, KeepsInsertionOrderAndReplacesInPlace) {
  Dict d;
  d.set("b", 1);
  d.set("a", 2);
  d.set("b", 3);
  ASSERT_EQ(d.keys(), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(d.at("b").as_int(), 3);
  EXPECT_TRUE(d.erase("b"));
  EXPECT_FALSE(d.contains("b"));
}

TEST(ConfigReader, NamesPathOnErrors) {
  Dict d;
  d.set("type", "ResNet");
  d.set("depth", "50");
  d.set("extra", 1);
  ConfigReader r(Value(d), "model.backbone");
  try {
    r.get_int("depth");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "model.backbone.depth: expected int, got str '50'");
  }
  try {
    r.finish();
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "model.backbone: unknown key(s): extra");
  }
}

}  // namespace
}  // namespace cppdet::config
