#include "cppdet/apis/device.h"

#include <torch/cuda.h>

#include <algorithm>
#include <cctype>

#include "cppdet/core/error.h"

namespace cppdet::apis {

std::string check_device(const std::string& device) {
  if (device == "cpu") return device;
  int64_t index = 0;
  if (device.rfind("cuda", 0) != 0) throw UserError("unknown device '" + device + "': expected cpu, cuda or cuda:N");
  if (device.size() > 4) {
    const std::string digits = device.size() > 5 && device[4] == ':' ? device.substr(5) : "";
    if (digits.empty() || digits.size() > 4 || !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
      throw UserError("unknown device '" + device + "': expected cpu, cuda or cuda:N");
    index = std::stoll(digits);
  }
#ifndef CPPDET_WITH_CUDA
  (void)index;
  throw UserError("device '" + device +
                  "' requested, but this cppdet build has no CUDA support (built against a CPU-only LibTorch); "
                  "use --device cpu");
#else
  if (!torch::cuda::is_available()) throw UserError("device '" + device + "' requested, but no CUDA GPU is available");
  const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
  if (index >= count)
    throw UserError("device '" + device + "' requested, but only " + std::to_string(count) + " CUDA device(s) exist");
  return "cuda:" + std::to_string(index);
#endif
}

}  // namespace cppdet::apis
