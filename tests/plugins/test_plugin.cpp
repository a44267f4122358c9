// Libraries for the custom_imports failure-mode tests (tests/unit/plugins): one source, built
// once per TEST_PLUGIN_<KIND> (tests/CMakeLists.txt) into libtestplugin_<kind>.so.
#include <memory>

#include "cppdet/models/registries.h"
#include "cppdet/registry/plugin.h"

namespace {

#if defined(TEST_PLUGIN_REGISTERS_NOTHING)
// A valid plugin whose registration function adds nothing.
void register_nothing() {}
#elif defined(TEST_PLUGIN_REGISTERS_FPN)
// Registers a neck under a name cppdet already has.
void register_fpn_again() {
  cppdet::models::neck_registry().add(
      "FPN", [](const cppdet::BuildContext&) { return std::shared_ptr<cppdet::models::Neck>(); });
}
#endif

}  // namespace

#if defined(TEST_PLUGIN_REGISTERS_NOTHING)
CPPDET_PLUGIN(register_nothing)
#elif defined(TEST_PLUGIN_REGISTERS_FPN)
CPPDET_PLUGIN(register_fpn_again)
#elif defined(TEST_PLUGIN_OTHER_ABI)
// What a plugin built against another cppdet version reports.
extern "C" __attribute__((visibility("default"))) const char* cppdet_plugin_abi() {
  return "cppdet-plugin 1; cppdet 9.9; torch 1.13; cxx11-abi 1";
}
extern "C" __attribute__((visibility("default"))) void cppdet_plugin_register() {}
#elif defined(TEST_PLUGIN_NOT_A_PLUGIN)
// A shared library without the entry points.
extern "C" __attribute__((visibility("default"))) int not_a_cppdet_plugin() { return 0; }
#endif
