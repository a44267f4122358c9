#include "cppdet/apis/plugins.h"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/registry/plugin.h"
#include "cppdet/registry/registry.h"

namespace cppdet::apis {
namespace {

namespace fs = std::filesystem;

// A module that could not be loaded and left cppdet as it was: allow_failed_imports=True
// turns it into a warning.
class PluginLoadFailure : public PluginError {
 public:
  using PluginError::PluginError;
};

// What this process has loaded: module names and files (canonical paths).
struct LoadedPlugins {
  std::recursive_mutex mutex;  // a plugin's registration may load another plugin
  std::map<std::string, std::string> file_of_module;
  std::set<std::string> files;
};

LoadedPlugins& loaded_plugins() {
  static LoadedPlugins* loaded = new LoadedPlugins();  // never destroyed: plugins stay loaded
  return *loaded;
}

bool is_path_module(const std::string& module) {
  return module.find('/') != std::string::npos ||
         (module.size() > 3 && module.compare(module.size() - 3, 3, ".so") == 0);
}

// "a.b.c" -> {"a", "b", "c"}; empty when `module` is not dot-separated identifiers.
std::vector<std::string> module_name_parts(const std::string& module) {
  std::vector<std::string> parts(1);
  for (char c : module) {
    if (c == '.') {
      parts.emplace_back();
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      parts.back() += c;
    } else {
      return {};
    }
  }
  for (const std::string& p : parts)
    if (p.empty()) return {};
  return parts;
}

fs::path folder_of_config(const std::string& config_path) {
  const fs::path dir = fs::path(config_path).parent_path();
  return dir.empty() ? fs::path(".") : dir;
}

// plugin_search_path() with what each folder is, for messages.
std::vector<std::pair<std::string, std::string>> labelled_search_path(const std::string& config_path) {
  std::vector<std::pair<std::string, std::string>> dirs;
  if (!config_path.empty()) dirs.emplace_back(folder_of_config(config_path).string(), "the config's folder");
  if (const char* env = std::getenv("CPPDET_PLUGIN_PATH")) {
    const std::string value = env;
    size_t start = 0;
    while (start <= value.size()) {
      const size_t end = std::min(value.find(':', start), value.size());
      if (end > start) dirs.emplace_back(value.substr(start, end - start), "$CPPDET_PLUGIN_PATH");
      start = end + 1;
    }
  }
  dirs.emplace_back(shipped_plugin_dir(), "the shipped plugins");
  return dirs;
}

// The file that `module` names (PluginLoadFailure when there is none).
fs::path find_module_file(const std::string& module, const std::string& config_path) {
  std::error_code ec;
  if (is_path_module(module)) {
    fs::path file(module);
    if (file.is_relative() && !config_path.empty()) file = folder_of_config(config_path) / file;
    if (!fs::is_regular_file(file, ec))
      throw PluginLoadFailure("custom_imports: module '" + module + "' not found: no file " + file.string());
    return file;
  }
  const std::vector<std::string> parts = module_name_parts(module);
  if (parts.empty())
    throw PluginLoadFailure("custom_imports: '" + module +
                            "' is neither a module name (dot-separated identifiers) nor a path to a .so file");
  fs::path subdir;
  for (size_t i = 0; i + 1 < parts.size(); ++i) subdir /= parts[i];
  const std::vector<std::string> names = {"lib" + parts.back() + ".so", parts.back() + ".so"};
  std::string searched;
  for (const auto& [dir, what] : labelled_search_path(config_path)) {
    for (const std::string& name : names) {
      const fs::path file = fs::path(dir) / subdir / name;
      if (fs::is_regular_file(file, ec)) return file;
    }
    searched += (searched.empty() ? "" : ", ") + dir + " (" + what + ")";
  }
  throw PluginLoadFailure("custom_imports: module '" + module + "' not found: looked for " +
                          (subdir / names[0]).string() + " and " + (subdir / names[1]).string() + " in " + searched);
}

// dlopen + the entry points + registration. `where` is "module 'm' (file)".
void load_plugin_file(const fs::path& file, const std::string& where) {
  const std::size_t registered_before = registration_count();
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    std::string why = dlerror();
    if (why.find("libcppdet.so") != std::string::npos)
      why += " (built against another cppdet? this one is libcppdet.so." CPPDET_ABI_VERSION ")";
    throw PluginLoadFailure("custom_imports: " + where + ": cannot load it: " + why);
  }
  using AbiFunction = const char* (*)();
  using RegisterFunction = void (*)();
  auto abi = reinterpret_cast<AbiFunction>(dlsym(handle, "cppdet_plugin_abi"));
  auto register_components = reinterpret_cast<RegisterFunction>(dlsym(handle, "cppdet_plugin_register"));
  if (!abi || !register_components) {
    dlclose(handle);
    throw PluginLoadFailure("custom_imports: " + where +
                            " is not a cppdet plugin: it does not define cppdet_plugin_abi() and "
                            "cppdet_plugin_register() (CPPDET_PLUGIN in cppdet/registry/plugin.h)");
  }
  const std::string plugin_abi = abi();
  if (plugin_abi != CPPDET_PLUGIN_ABI) {
    dlclose(handle);
    throw PluginLoadFailure("custom_imports: " + where + " was built against another cppdet ABI: the plugin has '" +
                            plugin_abi + "', this cppdet '" CPPDET_PLUGIN_ABI "'; rebuild the plugin against this cppdet");
  }
  try {
    register_components();
  } catch (const std::exception& e) {
    // Components registered before the failure stay registered: keep the library loaded.
    throw PluginError("custom_imports: " + where + ": registration failed: " + e.what());
  }
  if (registration_count() == registered_before) {
    dlclose(handle);
    throw PluginLoadFailure("custom_imports: " + where +
                            " registered nothing: its registration function added no component to cppdet's "
                            "registries");
  }
}

}  // namespace

CustomImports CustomImports::from_config(const config::Value& cfg, const std::string& path) {
  if (!cfg.is_dict())
    throw ConfigError(path + ": expected dict(imports=[...], allow_failed_imports=False), got " + cfg.type_name() + " " +
                      cfg.brief());
  config::ConfigReader r(cfg, path);
  CustomImports out;
  const config::Value& imports = r.get("imports");
  if (imports.is_string()) {
    out.imports.push_back(imports.as_string());
  } else if (imports.is_sequence()) {
    for (size_t i = 0; i < imports.as_sequence().size(); ++i) {
      const config::Value& item = imports.as_sequence()[i];
      if (!item.is_string())
        throw ConfigError(r.path_of("imports") + "." + std::to_string(i) + ": expected str, got " + item.type_name() +
                          " " + item.brief());
      out.imports.push_back(item.as_string());
    }
  } else {
    throw ConfigError(r.path_of("imports") + ": expected str or list of str, got " + imports.type_name() + " " +
                      imports.brief());
  }
  out.allow_failed_imports = r.get_bool("allow_failed_imports", false);
  r.finish();
  return out;
}

std::vector<std::string> plugin_search_path(const std::string& config_path) {
  std::vector<std::string> dirs;
  for (auto& [dir, what] : labelled_search_path(config_path)) dirs.push_back(std::move(dir));
  return dirs;
}

std::string shipped_plugin_dir() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void*>(&shipped_plugin_dir), &info) || !info.dli_fname)
    return "cppdet/plugins";  // unreachable on glibc: this function is in a loaded object
  std::error_code ec;
  const fs::path library = fs::weakly_canonical(fs::path(info.dli_fname), ec);
  return ((ec ? fs::path(info.dli_fname) : library).parent_path() / "cppdet" / "plugins").string();
}

std::string load_plugin(const std::string& module, const std::string& config_path) {
  LoadedPlugins& loaded = loaded_plugins();
  std::lock_guard<std::recursive_mutex> lock(loaded.mutex);
  if (auto it = loaded.file_of_module.find(module); it != loaded.file_of_module.end()) return it->second;
  std::error_code ec;
  const fs::path found = find_module_file(module, config_path);
  const fs::path canonical = fs::weakly_canonical(found, ec);
  const std::string file = (ec ? found : canonical).string();
  if (!loaded.files.count(file)) load_plugin_file(file, "module '" + module + "' (" + file + ")");
  loaded.files.insert(file);
  loaded.file_of_module[module] = file;
  return file;
}

void load_plugins(const config::Value& cfg, const std::string& config_path) {
  const config::Value* node = cfg.is_dict() ? cfg.as_dict().find("custom_imports") : nullptr;
  if (!node || node->is_none()) return;
  const CustomImports imports = CustomImports::from_config(*node, "custom_imports");
  for (const std::string& module : imports.imports) {
    try {
      load_plugin(module, config_path);
    } catch (const PluginLoadFailure& e) {
      if (!imports.allow_failed_imports) throw;
      std::cerr << "cppdet: warning: " << e.what() << "; skipped (allow_failed_imports=True)\n";
    }
  }
}

}  // namespace cppdet::apis
