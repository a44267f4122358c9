#pragma once
// mmdet's AutoAugment(policies=[[step, ...], ...]): each sample draws one policy, uniformly,
// and runs that policy's steps in order (each step keeps its own prob / sign draws). The
// draws come from the pipeline's random source (random.h), so seeding it fixes the choice.
#include <memory>
#include <vector>

#include "cppdet/data/transforms/compose.h"

namespace cppdet::data {

class AutoAugment : public Transform {
 public:
  explicit AutoAugment(std::vector<std::unique_ptr<Compose>> policies);
  std::vector<Sample> operator()(Sample sample) override;
  size_t num_policies() const { return policies_.size(); }

 private:
  std::vector<std::unique_ptr<Compose>> policies_;
};

// Builds AutoAugment from its config dict: `policies` must be a non-empty list of non-empty
// lists of transform dicts; errors name the key path ("...policies[1][0].type: unknown transform").
std::unique_ptr<Transform> build_auto_augment(const config::Value& cfg, const std::string& path);

}  // namespace cppdet::data
