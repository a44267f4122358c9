#include "cppdet/data/transforms/random.h"

namespace cppdet::data {

std::mt19937_64& transform_rng() {
  thread_local std::mt19937_64 engine(0x5eed);
  return engine;
}

void seed_transform_rng(uint64_t seed) { transform_rng().seed(seed); }

int64_t random_int(int64_t low, int64_t high) {
  return std::uniform_int_distribution<int64_t>(low, high)(transform_rng());
}

double random_unit() { return std::uniform_real_distribution<double>(0.0, 1.0)(transform_rng()); }

bool random_apply(double prob) { return !(random_unit() > prob); }

}  // namespace cppdet::data
