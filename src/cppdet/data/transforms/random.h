#pragma once
// The random source of the random transforms (Resize's multi-scale modes, RandomFlip,
// AutoAugment's policy choice and its steps' draws), one engine per thread. Seed it for
// reproducible pipelines.
#include <cstdint>
#include <random>

namespace cppdet::data {

std::mt19937_64& transform_rng();
void seed_transform_rng(uint64_t seed);

// Uniform integer in [low, high] (inclusive), and uniform real in [0, 1).
int64_t random_int(int64_t low, int64_t high);
double random_unit();
// One draw that decides whether a step with probability `prob` runs: mmdet's
// `if np.random.rand() > prob: return results` (prob 1 always runs).
bool random_apply(double prob);

}  // namespace cppdet::data
