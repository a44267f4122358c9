#include "cppdet/models/precision/precision.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <initializer_list>

#include "cppdet/core/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace cppdet::models {
namespace {

// cpuid leaf 7 sub-leaf `sub`: {eax, ebx, ecx, edx}; zeros where the leaf does not exist.
struct CpuidRegs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

CpuidRegs cpuid_leaf7(unsigned sub) {
  CpuidRegs r;
#if defined(__x86_64__) || defined(__i386__)
  if (__get_cpuid_max(0, nullptr) >= 7) __cpuid_count(7, sub, r.a, r.b, r.c, r.d);
#else
  (void)sub;
#endif
  return r;
}

// The ISA limit oneDNN obeys (upper-cased), "" when unset.
std::string onednn_isa_limit() {
  const char* v = std::getenv("ONEDNN_MAX_CPU_ISA");
  if (!v || !*v) v = std::getenv("DNNL_MAX_CPU_ISA");
  std::string s = v ? v : "";
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// Whether the limit allows an ISA whose oneDNN names contain one of `markers` (ALL allows all).
bool isa_limit_allows(std::initializer_list<const char*> markers) {
  const std::string limit = onednn_isa_limit();
  if (limit.empty() || limit == "ALL") return true;
  for (const char* m : markers)
    if (limit.find(m) != std::string::npos) return true;
  return false;
}

}  // namespace

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  if (name == "int8") return Precision::kInt8;
  throw UserError("unknown precision '" + name + "' (expected fp32, bf16 or int8)");
}

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::kFp32: return "fp32";
    case Precision::kBf16: return "bf16";
    case Precision::kInt8: return "int8";
  }
  return "?";
}

bool cpu_has_native_bf16() {
  const bool avx512_bf16 = (cpuid_leaf7(1).a >> 5) & 1u;
  const bool amx_bf16 = (cpuid_leaf7(0).d >> 22) & 1u;
  return (avx512_bf16 || amx_bf16) && isa_limit_allows({"BF16", "AMX"});
}

bool cpu_has_int8_dot_product() {
  const bool avx512_vnni = (cpuid_leaf7(0).c >> 11) & 1u;
  const bool avx_vnni = (cpuid_leaf7(1).a >> 4) & 1u;
  return (avx512_vnni || avx_vnni) && isa_limit_allows({"VNNI", "BF16", "AMX"});
}

}  // namespace cppdet::models
