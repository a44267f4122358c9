#pragma once
// The random source of the random transforms (Resize's multi-scale modes, RandomFlip), one
// engine per thread. Seed it for reproducible pipelines.
#include <cstdint>
#include <random>

namespace cppdet::data {

std::mt19937_64& transform_rng();
void seed_transform_rng(uint64_t seed);

// Uniform integer in [low, high] (inclusive), and uniform real in [0, 1).
int64_t random_int(int64_t low, int64_t high);
double random_unit();

}  // namespace cppdet::data
