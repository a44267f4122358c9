# Every dependency comes from a Debian 12 package (scripts/setup.sh installs them).
find_package(Threads REQUIRED)
find_package(Torch REQUIRED)            # Debian libtorch-dev (CPU) or a CUDA LibTorch 2.x via CMAKE_PREFIX_PATH
# c10d's ProcessGroupGloo header (distributed training) includes Gloo's headers: Debian's
# libgloo-dev, the same Gloo that libtorch_cpu links (libgloo0).
find_path(CPPDET_GLOO_INCLUDE_DIR gloo/algorithm.h)
if(NOT CPPDET_GLOO_INCLUDE_DIR)
  message(FATAL_ERROR "Gloo headers (gloo/algorithm.h) not found: install libgloo-dev (scripts/setup.sh)")
endif()
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs videoio highgui)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(tinyxml2 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
# cpp-httplib (Debian libcpp-httplib-dev, a compiled library): the HTTP server of `cppdet serve`
# and the client of its tests and benchmark (docs/serving.md says why this library).
pkg_check_modules(CPP_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib>=0.11)

# TCMalloc (Debian libgoogle-perftools-dev) as the allocator of cppdet's executables: glibc
# malloc maps every large block (the activations) anew and returns it on free, so each forward
# pass page-faults its working set in again; TCMalloc keeps freed spans for reuse. Measured on
# Faster R-CNN CPU inference: 3.5x faster and a lower peak RSS (docs/benchmarks.md).
option(CPPDET_TCMALLOC "Link cppdet's executables with TCMalloc (tcmalloc_minimal)" ON)
if(CPPDET_TCMALLOC)
  pkg_check_modules(TCMALLOC REQUIRED IMPORTED_TARGET libtcmalloc_minimal)
  find_library(CPPDET_TCMALLOC_LIBRARY NAMES tcmalloc_minimal HINTS ${TCMALLOC_LIBRARY_DIRS} REQUIRED)
endif()

# cppdet_use_allocator(<executable>): links TCMalloc when CPPDET_TCMALLOC is on (kept even where
# the linker drops unreferenced libraries).
function(cppdet_use_allocator target)
  if(CPPDET_TCMALLOC)
    target_link_libraries(${target} PRIVATE -Wl,--no-as-needed PkgConfig::TCMALLOC -Wl,--as-needed)
    target_compile_definitions(${target} PRIVATE CPPDET_TCMALLOC_LIBRARY="${CPPDET_TCMALLOC_LIBRARY}")
  endif()
endfunction()

# CUDA kernels are compiled only when the LibTorch found was built with CUDA.
set(CPPDET_WITH_CUDA OFF)
if(TORCH_CUDA_LIBRARIES OR CUDA_FOUND)
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    set(CPPDET_WITH_CUDA ON)
  endif()
endif()
message(STATUS "cppdet: CUDA kernels ${CPPDET_WITH_CUDA}")

# yaml-cpp 0.7 exports the target name "yaml-cpp".
if(NOT TARGET yaml-cpp AND TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp ALIAS yaml-cpp::yaml-cpp)
endif()
