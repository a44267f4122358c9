#pragma once
// Runs a Python snippet (python3 + torch/torchvision, test-time reference only) on tensors
// exchanged as raw files: inputs are visible to the script as `inp['name']` (torch tensors),
// and whatever it stores in `out['name']` comes back. Header-only so several test suites
// can include it.
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/test_support.h"

namespace cppdet::testing {

using TensorMap = std::map<std::string, torch::Tensor>;

// The interpreter with Debian's python3-torch: $CPPDET_PYTHON, else /usr/bin/python3 (a
// python3 earlier on PATH, e.g. pyenv's, may lack the Debian packages), else python3.
inline std::string python_executable() {
  if (const char* v = std::getenv("CPPDET_PYTHON")) return v;
  if (std::ifstream("/usr/bin/python3").good()) return "/usr/bin/python3";
  return "python3";
}

inline bool python_torchvision_available() {
  static const bool available =
      run_command(shell_quote(python_executable()) + " -c 'import torch, torchvision' 2>/dev/null").exit_code == 0;
  return available;
}

namespace detail {

inline std::string dtype_name(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return "float32";
    case torch::kFloat64: return "float64";
    case torch::kInt64: return "int64";
    case torch::kInt32: return "int32";
    case torch::kBool: return "bool";
    case torch::kUInt8: return "uint8";
    default: throw std::runtime_error("python_reference: unsupported dtype");
  }
}

inline torch::ScalarType dtype_from(const std::string& s) {
  if (s == "float32") return torch::kFloat32;
  if (s == "float64") return torch::kFloat64;
  if (s == "int64") return torch::kInt64;
  if (s == "int32") return torch::kInt32;
  if (s == "bool") return torch::kBool;
  if (s == "uint8") return torch::kUInt8;
  throw std::runtime_error("python_reference: unsupported dtype " + s);
}

inline void write_tensors(const std::string& dir, const TensorMap& tensors) {
  nlohmann::json manifest = nlohmann::json::object();
  for (const auto& [name, t0] : tensors) {
    torch::Tensor t = t0.contiguous().cpu();
    std::ofstream f(dir + "/" + name + ".bin", std::ios::binary);
    f.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
    manifest[name] = {{"dtype", dtype_name(t.scalar_type())}, {"shape", t.sizes().vec()}};
  }
  std::ofstream(dir + "/manifest.json") << manifest.dump();
}

inline TensorMap read_tensors(const std::string& dir) {
  TensorMap out;
  std::ifstream mf(dir + "/manifest.json");
  if (!mf) return out;
  nlohmann::json manifest = nlohmann::json::parse(mf);
  for (auto& [name, info] : manifest.items()) {
    std::vector<int64_t> shape = info["shape"].get<std::vector<int64_t>>();
    torch::Tensor t = torch::empty(shape, torch::dtype(dtype_from(info["dtype"].get<std::string>())));
    std::ifstream f(dir + "/" + name + ".bin", std::ios::binary);
    f.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
    out[name] = t;
  }
  return out;
}

}  // namespace detail

// Runs `body` with `inp` bound to the inputs; returns `out`. Throws with the script's output
// when Python fails.
inline TensorMap run_python_reference(const std::string& body, const TensorMap& inputs) {
  const std::string in_dir = make_temp_dir("pyref_in");
  const std::string out_dir = make_temp_dir("pyref_out");
  detail::write_tensors(in_dir, inputs);
  std::ostringstream script;
  script << "import json, sys, numpy as np, torch, torchvision\n"
            "torch.set_num_threads(1)\n"
            "def _load(d):\n"
            "    m = json.load(open(d + '/manifest.json'))\n"
            "    r = {}\n"
            "    for k, v in m.items():\n"
            "        a = np.fromfile(d + '/' + k + '.bin', dtype=np.dtype(v['dtype']))\n"
            "        r[k] = torch.from_numpy(a.reshape(v['shape']).copy())\n"
            "    return r\n"
            "inp = _load(sys.argv[1])\n"
            "out = {}\n"
         << body
         << "\n"
            "m = {}\n"
            "for k, v in out.items():\n"
            "    a = v.detach().contiguous().numpy()\n"
            "    a.tofile(sys.argv[2] + '/' + k + '.bin')\n"
            "    m[k] = {'dtype': str(a.dtype), 'shape': list(a.shape)}\n"
            "json.dump(m, open(sys.argv[2] + '/manifest.json', 'w'))\n";
  const std::string script_path = in_dir + "/script.py";
  std::ofstream(script_path) << script.str();
  CommandResult r = run_command(shell_quote(python_executable()) + " " + shell_quote(script_path) + " " + shell_quote(in_dir) + " " +
                                shell_quote(out_dir) + " 2>&1");
  if (r.exit_code != 0) throw std::runtime_error("python reference failed:\n" + r.output);
  return detail::read_tensors(out_dir);
}

}  // namespace cppdet::testing
