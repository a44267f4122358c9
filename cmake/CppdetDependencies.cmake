# Every dependency comes from a Debian 12 package (scripts/setup.sh installs them).
find_package(Threads REQUIRED)
find_package(Torch REQUIRED)            # Debian libtorch-dev (CPU) or a CUDA LibTorch 2.x via CMAKE_PREFIX_PATH
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs videoio highgui)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(tinyxml2 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)

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
