#pragma once
// Plugins: a config's custom_imports, as in MMDetection, loads modules that register
// components before anything is built from the config:
//
//   custom_imports = dict(imports=['augfpn'], allow_failed_imports=False)
//   model = dict(neck=dict(type='AugFPN', ...))
//
// A module is a shared library whose entry points (CPPDET_PLUGIN, registry/plugin.h) add its
// components to cppdet's registries. An entry of `imports` is
//   - a path (it contains '/' or ends in ".so"): that file; a relative path is relative to the
//     config file's folder;
//   - a name of dot-separated identifiers, "augfpn" or "my_project.necks": the file
//     lib<last>.so, else <last>.so, in the folder the earlier parts name ("my_project/"),
//     under each folder of plugin_search_path(): the config file's folder, then the entries of
//     the environment variable CPPDET_PLUGIN_PATH (':'-separated), then the plugins shipped
//     with cppdet (shipped_plugin_dir()).
// Each module is loaded once per process (by name and by file); loading it again is a no-op.
// Plugins stay loaded until the process ends: the builders they registered live in them.
#include <string>
#include <vector>

#include "cppdet/config/value.h"

namespace cppdet::apis {

// mmcv's custom_imports: dict(imports=<str or list of str>, allow_failed_imports=False).
struct CustomImports {
  std::vector<std::string> imports;
  bool allow_failed_imports = false;

  // `cfg` is the custom_imports value, `path` its key path (for messages).
  static CustomImports from_config(const config::Value& cfg, const std::string& path);
};

// Loads the modules of cfg.custom_imports (none when the key is absent or None), in order.
// `config_path` is the file cfg was read from ("" when unknown: relative paths are then
// relative to the working directory, and names are looked up in CPPDET_PLUGIN_PATH and the
// shipped plugins only). A module that cannot be found, cannot be loaded, is not a cppdet
// plugin, was built against another cppdet ABI or registers nothing is a PluginError naming
// the module, the file and why; with allow_failed_imports=True it is skipped with a warning
// on stderr instead (mmcv's behaviour). A registration that fails midway (a name registered
// twice) is always a PluginError: some of its components may already be registered.
void load_plugins(const config::Value& cfg, const std::string& config_path = "");

// Loads one module (an `imports` entry, see above) unless it is loaded already; returns the
// file it is loaded from. Failures are PluginError, as for load_plugins.
std::string load_plugin(const std::string& module, const std::string& config_path = "");

// The folders searched for a module name, in order (see above).
std::vector<std::string> plugin_search_path(const std::string& config_path);

// <folder of libcppdet.so>/cppdet/plugins: the plugins installed with cppdet
// (<prefix>/lib/cppdet/plugins) or, in a build tree, built with it (build/lib/cppdet/plugins).
std::string shipped_plugin_dir();

}  // namespace cppdet::apis
