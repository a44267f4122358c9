#!/usr/bin/env bash
# CI stage: compiles every CUDA source (src/**/*.cu) and every CUDA-only code path of the C++
# sources (#ifdef CPPDET_WITH_CUDA / USE_C10D_NCCL) against LibTorch's headers, without a GPU and
# without a CUDA LibTorch, so that code the CPU build never compiles cannot rot unseen.
# Compile only: nothing is linked or run.
#
# nvcc: $NVCC, else nvcc on PATH, else Debian 12's nvidia-cuda-toolkit, installed here from the
# non-free component through a private apt source list (the system's sources are left as they
# are; needs root and the network; about 1.6 GB to download, 5.3 GB installed). When no nvcc
# can be had the stage prints why and exits 0; CPPDET_CUDA_CHECK=required makes that an error.
#
# Debian's CPU-only libtorch-dev ships the ATen/cuda and c10/cuda headers but not
# c10/cuda/impl/cuda_cmake_macros.h, which CMake generates when it builds a CUDA LibTorch; the
# stage writes that one-line header into its own include folder. Debian 12 has no NCCL package:
# without nccl.h the ProcessGroupNCCL path is reported as not compiled.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${CPPDET_CUDA_CHECK_DIR:-$root/build-cuda-check}
start=$(date +%s)

skip() {
  echo "cuda-check: skipped: $1"
  [ "${CPPDET_CUDA_CHECK:-}" != required ] || exit 1
  exit 0
}

find_nvcc() {
  if [ -n "${NVCC:-}" ]; then echo "$NVCC"; return; fi
  command -v nvcc 2>/dev/null || true
}

nvcc=$(find_nvcc)
if [ -z "$nvcc" ]; then
  [ "$(id -u)" -eq 0 ] || skip "no nvcc, and installing Debian's nvidia-cuda-toolkit needs root"
  command -v apt-get >/dev/null || skip "no nvcc and no apt-get"
  apt_dir="$out/apt"
  mkdir -p "$apt_dir/lists/partial"
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  echo "deb http://deb.debian.org/debian $codename main contrib non-free" > "$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$apt_dir/lists")
  echo "cuda-check: installing nvidia-cuda-toolkit from Debian $codename non-free"
  if ! apt-get -q "${apt_opts[@]}" update >"$out/apt.log" 2>&1 ||
     ! DEBIAN_FRONTEND=noninteractive apt-get -q -y "${apt_opts[@]}" install --no-install-recommends \
         nvidia-cuda-toolkit >>"$out/apt.log" 2>&1; then
    tail -n 5 "$out/apt.log"
    skip "could not install nvidia-cuda-toolkit (see $out/apt.log)"
  fi
  nvcc=$(command -v nvcc || true)
  [ -n "$nvcc" ] || skip "nvidia-cuda-toolkit installed no nvcc"
fi
installed=$(date +%s)
version=$("$nvcc" --version | sed -n 's/.*release \([0-9]*\)\.\([0-9]*\).*/\1.\2/p')
echo "cuda-check: $nvcc (CUDA $version), $((installed - start)) s to get it"

# The host compiler nvcc accepts: CUDA 11.x supports up to g++ 11 and clang 14.
ccbin=()
if [ "${version%%.*}" -lt 12 ] 2>/dev/null; then
  if command -v g++-11 >/dev/null; then ccbin=(-ccbin g++-11)
  elif command -v clang++-14 >/dev/null; then ccbin=(-ccbin clang++-14)
  fi
fi

# LibTorch's headers (Debian's, or TORCH_INCLUDE_DIR's) plus the generated CUDA macro header.
torch_inc=${TORCH_INCLUDE_DIR:-/usr/include}
[ -f "$torch_inc/ATen/cuda/CUDAContext.h" ] || skip "no ATen/cuda headers under $torch_inc"
mkdir -p "$out/include/c10/cuda/impl"
if [ ! -f "$torch_inc/c10/cuda/impl/cuda_cmake_macros.h" ]; then
  printf '#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n' > "$out/include/c10/cuda/impl/cuda_cmake_macros.h"
fi
cuda_inc=$(dirname "$(dirname "$(readlink -f "$nvcc")")")/include
[ -d "$cuda_inc" ] || cuda_inc=/usr/include
includes=(-I"$out/include" -I"$root/src" -I"$out/src" -I"$torch_inc" -I"$torch_inc/torch/csrc/api/include")
# version.h is generated at configure time; a stand-in is enough to compile.
mkdir -p "$out/src/cppdet"
[ -f "$out/src/cppdet/version.h" ] || printf '#pragma once\nnamespace cppdet { inline constexpr const char* kVersion = "cuda-check"; }\n' \
  > "$out/src/cppdet/version.h"
defines=(-DCPPDET_WITH_CUDA=1 -D_GLIBCXX_USE_CXX11_ABI=1 -DUSE_C10D_GLOO -DUSE_DISTRIBUTED)
nccl="no"
if [ -f "$cuda_inc/nccl.h" ] || [ -f /usr/include/nccl.h ]; then
  defines+=(-DUSE_C10D_NCCL)
  nccl="yes"
fi

failed=0
count=0
for cu in $(find src -name '*.cu' | sort); do
  echo "cuda-check: nvcc $cu"
  count=$((count + 1))
  "$nvcc" "${ccbin[@]}" -std=c++17 -c "$cu" -o /dev/null "${includes[@]}" "${defines[@]}" --expt-relaxed-constexpr \
    -D__CUDA_NO_HALF_OPERATORS__ -D__CUDA_NO_HALF_CONVERSIONS__ -D__CUDA_NO_BFLOAT16_CONVERSIONS__ \
    -D__CUDA_NO_HALF2_OPERATORS__ || failed=$((failed + 1))
done
for cpp in $(grep -rlE 'CPPDET_WITH_CUDA|USE_C10D_NCCL' src tools --include='*.cpp' | sort); do
  echo "cuda-check: c++ $cpp"
  count=$((count + 1))
  ${CXX:-c++} -std=c++17 -fsyntax-only "$cpp" "${includes[@]}" -I"$cuda_inc" "${defines[@]}" \
    $(pkg-config --cflags opencv4 2>/dev/null) || failed=$((failed + 1))
done
echo "cuda-check: compiled $count files, $failed failed; ProcessGroupNCCL path compiled: $nccl;" \
     "$(( $(date +%s) - installed )) s compiling"
[ "$failed" -eq 0 ]
