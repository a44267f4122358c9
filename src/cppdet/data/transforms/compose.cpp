#include "cppdet/data/transforms/compose.h"

#include "cppdet/core/error.h"

namespace cppdet::data {

std::vector<Sample> Compose::operator()(Sample sample) {
  std::vector<Sample> current;
  current.push_back(std::move(sample));
  for (const auto& step : steps_) {
    std::vector<Sample> next;
    for (Sample& s : current) {
      std::vector<Sample> produced = (*step)(std::move(s));
      for (Sample& p : produced) next.push_back(std::move(p));
    }
    current = std::move(next);
    if (current.empty()) break;
  }
  return current;
}

std::unique_ptr<Compose> build_compose(const config::Value& pipeline, const std::string& path) {
  if (!pipeline.is_sequence())
    throw ConfigError(path + ": expected a list of transform dicts, got " + pipeline.type_name());
  std::vector<std::unique_ptr<Transform>> steps;
  const config::List& items = pipeline.as_sequence();
  for (size_t i = 0; i < items.size(); ++i)
    steps.push_back(transform_registry().build(items[i], path + "[" + std::to_string(i) + "]"));
  return std::make_unique<Compose>(std::move(steps));
}

}  // namespace cppdet::data
