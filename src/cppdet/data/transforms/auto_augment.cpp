#include "cppdet/data/transforms/auto_augment.h"

#include "cppdet/config/reader.h"
#include "cppdet/core/error.h"
#include "cppdet/data/transforms/random.h"

namespace cppdet::data {

AutoAugment::AutoAugment(std::vector<std::unique_ptr<Compose>> policies) : policies_(std::move(policies)) {
  if (policies_.empty()) throw ConfigError("AutoAugment.policies: must be a non-empty list");
}

std::vector<Sample> AutoAugment::operator()(Sample sample) {
  const int64_t choice = random_int(0, static_cast<int64_t>(policies_.size()) - 1);
  return (*policies_[static_cast<size_t>(choice)])(std::move(sample));
}

std::unique_ptr<Transform> build_auto_augment(const config::Value& cfg, const std::string& path) {
  config::ConfigReader r(cfg, path);
  const config::Value& policies = r.get("policies");
  const std::string policies_path = r.path_of("policies");
  if (!policies.is_sequence() || policies.as_sequence().empty())
    throw ConfigError(policies_path + ": expected a non-empty list of policies (lists of transform dicts), got " +
                      policies.brief());
  std::vector<std::unique_ptr<Compose>> built;
  for (size_t i = 0; i < policies.as_sequence().size(); ++i) {
    const config::Value& policy = policies.as_sequence()[i];
    const std::string policy_path = policies_path + "[" + std::to_string(i) + "]";
    if (!policy.is_sequence() || policy.as_sequence().empty())
      throw ConfigError(policy_path + ": expected a non-empty list of transform dicts, got " + policy.brief());
    built.push_back(build_compose(policy, policy_path));
  }
  r.finish();
  return std::make_unique<AutoAugment>(std::move(built));
}

}  // namespace cppdet::data
