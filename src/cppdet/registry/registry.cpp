#include "cppdet/registry/registry.h"

#include <atomic>

namespace cppdet {
namespace {

std::atomic<std::size_t> registrations{0};

}  // namespace

std::size_t registration_count() { return registrations.load(); }

namespace detail {
void count_registration() { ++registrations; }
}  // namespace detail

}  // namespace cppdet
