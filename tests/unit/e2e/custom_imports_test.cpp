// custom_imports through the `cppdet` executable: each way a plugin can fail is one error
// line and exit status 2, and allow_failed_imports=True turns a module that cannot be loaded
// into a warning. The test plugins are built from tests/plugins/test_plugin.cpp; the loading
// itself and the AugFPN plugin are tested in tests/unit/plugins.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cppdet/version.h"
#include "support/test_support.h"

namespace cppdet {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;

// build/bin/cppdet -> build; the test plugins and the shipped ones in it.
fs::path plugins_build_dir() { return fs::path(testing::cppdet_exe()).parent_path().parent_path(); }
std::string test_plugin_dir() { return (plugins_build_dir() / "tests" / "plugins").string(); }
std::string test_plugin(const std::string& kind) { return test_plugin_dir() + "/libtestplugin_" + kind + ".so"; }
std::string shipped_plugin_dir() {
  return fs::weakly_canonical(plugins_build_dir() / CPPDET_TEST_LIBDIR / "cppdet" / "plugins").string();
}

// `dir`/config.py: the tiny Faster R-CNN with `custom_imports`.
std::string config_importing(const std::string& dir, const std::string& custom_imports) {
  const std::string path = dir + "/config.py";
  std::ofstream(path) << "_base_ = '" << testing::fixture("oracle_cases/faster_tiny_r50/config.py") << "'\n"
                      << "custom_imports = " << custom_imports << "\n";
  return path;
}

// `cppdet checkpoint model CONFIG` (builds the config's model) with `env` assignments.
CommandResult model_of(const std::string& config, const std::string& env = "") {
  return testing::run_command(env + " " + testing::shell_quote(testing::cppdet_exe()) + " checkpoint model " +
                              testing::shell_quote(config) + " 2>&1");
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Exit status 2 and exactly one error line, which contains `message`.
void expect_one_plugin_error(const CommandResult& r, const std::string& message) {
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(occurrences(r.output, "cppdet: error: "), 1u) << r.output;
  EXPECT_EQ(occurrences(r.output, "internal error"), 0u) << r.output;
  EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
}

TEST(CustomImports, MissingModuleSaysWhereItLooked) {
  const std::string dir = testing::make_temp_dir("plugin_missing");
  const CommandResult r = model_of(config_importing(dir, "dict(imports=['no_such_plugin'])"));
  expect_one_plugin_error(r, "custom_imports: module 'no_such_plugin' not found: looked for libno_such_plugin.so and "
                      "no_such_plugin.so in " + dir);
  EXPECT_NE(r.output.find(shipped_plugin_dir()), std::string::npos) << r.output;
}

TEST(CustomImports, LibraryThatIsNotAPlugin) {
  // A path relative to the config's folder.
  const std::string dir = testing::make_temp_dir("plugin_not_a_plugin");
  fs::copy_file(test_plugin("not_a_plugin"), dir + "/libnot_a_plugin.so");
  expect_one_plugin_error(model_of(config_importing(dir, "dict(imports=['libnot_a_plugin.so'])")),
                   "custom_imports: module 'libnot_a_plugin.so' (" + fs::weakly_canonical(dir).string() +
                       "/libnot_a_plugin.so) is not a cppdet plugin: it does not define cppdet_plugin_abi()");
}

TEST(CustomImports, PluginThatRegistersNothing) {
  // A name found in CPPDET_PLUGIN_PATH.
  const std::string dir = testing::make_temp_dir("plugin_nothing");
  expect_one_plugin_error(model_of(config_importing(dir, "dict(imports=['testplugin_registers_nothing'])"),
                            "CPPDET_PLUGIN_PATH=/nonexistent:" + testing::shell_quote(test_plugin_dir())),
                   "custom_imports: module 'testplugin_registers_nothing' (" + test_plugin("registers_nothing") +
                       ") registered nothing");
}

TEST(CustomImports, NameRegisteredTwice) {
  const std::string dir = testing::make_temp_dir("plugin_twice");
  expect_one_plugin_error(model_of(config_importing(dir, "dict(imports=['testplugin_registers_fpn'])"),
                            "CPPDET_PLUGIN_PATH=" + testing::shell_quote(test_plugin_dir())),
                   "custom_imports: module 'testplugin_registers_fpn' (" + test_plugin("registers_fpn") +
                       "): registration failed: neck 'FPN' is already registered");
}

TEST(CustomImports, PluginBuiltAgainstAnotherAbi) {
  const std::string dir = testing::make_temp_dir("plugin_abi");
  expect_one_plugin_error(model_of(config_importing(dir, "dict(imports=['" + test_plugin("other_abi") + "'])")),
                   "was built against another cppdet ABI: the plugin has 'cppdet-plugin 1; cppdet 9.9; torch 1.13; "
                   "cxx11-abi 1', this cppdet 'cppdet-plugin 1; cppdet " CPPDET_ABI_VERSION);
}

TEST(CustomImports, MalformedValueNamesTheKey) {
  const std::string dir = testing::make_temp_dir("plugin_bad_value");
  expect_one_plugin_error(model_of(config_importing(dir, "dict(imports=3)")),
                   "custom_imports.imports: expected str or list of str, got int 3");
  expect_one_plugin_error(model_of(config_importing(dir, "dict(imports=['augfpn'], allow_failed=True)")),
                   "custom_imports: unknown key");
}

TEST(CustomImports, AllowFailedImportsWarnsAndGoesOn) {
  const std::string dir = testing::make_temp_dir("plugin_allow_failed");
  // A missing module: a warning, and the model (which does not use it) is built.
  const CommandResult r = model_of(config_importing(dir, "dict(imports=['no_such_plugin'], allow_failed_imports=True)"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("cppdet: warning: custom_imports: module 'no_such_plugin' not found"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("skipped (allow_failed_imports=True)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("neck.lateral_convs.0.conv.weight"), std::string::npos) << r.output;
  // A name registered twice is still an error: the plugin has changed the registries.
  expect_one_plugin_error(model_of(config_importing(dir, "dict(imports=['testplugin_registers_fpn'], allow_failed_imports=True)"),
                            "CPPDET_PLUGIN_PATH=" + testing::shell_quote(test_plugin_dir())),
                   "neck 'FPN' is already registered");
}

}  // namespace
}  // namespace cppdet
