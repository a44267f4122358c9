#pragma once
// Type name -> builder tables (mmcv's Registry idea, without import-time magic). Each
// subsystem owns its registries and fills them in one visible function (for models:
// models/register_builtin.cpp); a user's module registers the same way before building:
//
//   cppdet::models::neck_registry().add("AugFPN", [](const BuildContext& ctx) { ... });
//
// build() reads cfg["type"] and calls the builder; an unknown type is a ConfigError that
// names the key path and lists the known names of that kind. A plugin (registry/plugin.h)
// registers the same way from its registration function.
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/core/error.h"

namespace cppdet {

// How many components have been registered in this process, over all registries (the plugin
// loader tells a plugin that registers nothing by it). Defined in libcppdet, so that every
// plugin's add() counts in the one counter.
std::size_t registration_count();
namespace detail {
void count_registration();
}  // namespace detail

// What every builder receives: the component's config dict and its dotted key path.
struct BuildContext {
  const config::Value& cfg;
  std::string path;
};

template <typename Product, typename... Extra>
class Registry {
 public:
  using Builder = std::function<Product(const BuildContext&, Extra...)>;

  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  // Registers `type`; registering a name twice is a programming error (ConfigError).
  void add(const std::string& type, Builder builder) {
    if (!builders_.emplace(type, std::move(builder)).second)
      throw ConfigError(kind_ + " '" + type + "' is already registered");
    detail::count_registration();
  }

  bool contains(const std::string& type) const { return builders_.count(type) > 0; }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, _] : builders_) out.push_back(name);
    return out;
  }

  Product build(const config::Value& cfg, const std::string& path, Extra... extra) const {
    if (!cfg.is_dict()) throw ConfigError(path + ": expected a dict with 'type', got " + cfg.type_name());
    const config::Value* type = cfg.as_dict().find("type");
    if (!type) throw ConfigError(path + ": missing 'type' (a " + kind_ + ")");
    if (!type->is_string()) throw ConfigError(path + ".type: expected str, got " + type->brief());
    auto it = builders_.find(type->as_string());
    if (it == builders_.end()) {
      std::string known;
      for (const auto& [name, _] : builders_) known += (known.empty() ? "" : ", ") + name;
      throw ConfigError(path + ".type: unknown " + kind_ + " '" + type->as_string() + "'; known: " +
                        (known.empty() ? "(none)" : known));
    }
    return it->second(BuildContext{cfg, path}, std::forward<Extra>(extra)...);
  }

  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  std::map<std::string, Builder> builders_;
};

}  // namespace cppdet
