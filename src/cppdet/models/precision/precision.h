#pragma once
// The arithmetic a detector's convolutions and linears run in on the CPU (docs/inference.md,
// "Precision"): fp32, bf16 (bfloat16 through oneDNN where the CPU has AVX512-BF16 or AMX) or
// int8 (post-training static quantization: per-channel int8 weights, per-tensor uint8
// activations with scales calibrated by `cppdet quantize`). Accumulation and post-processing
// (box decoding, NMS, mask pasting) stay fp32 in every precision.
#include <string>

namespace cppdet::models {

enum class Precision { kFp32, kBf16, kInt8 };

// "fp32" | "bf16" | "int8" (UserError naming the choices otherwise).
Precision parse_precision(const std::string& name);
const char* precision_name(Precision precision);

// Whether oneDNN runs bfloat16 convolutions natively here: the CPU has AVX512-BF16 or AMX-BF16
// (cpuid) and ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA, when set, does not rule them out.
bool cpu_has_native_bf16();
// Whether the CPU has AVX512-VNNI or AVX-VNNI (fast int8 dot products) and the ISA limit allows it.
bool cpu_has_int8_dot_product();

}  // namespace cppdet::models
