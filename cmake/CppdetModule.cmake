# cppdet_module(<name> [TORCH] [OUTSIDE_LIBRARY] [DEPS targets...])
# One static library per subsystem folder src/cppdet/<name>/ (sources globbed recursively,
# *.cu only in CUDA builds). TORCH modules share one precompiled <torch/torch.h>. The
# subsystems with code are recorded in the global property CPPDET_SUBSYSTEMS: libcppdet.so
# is made of their objects (src/CMakeLists.txt). OUTSIDE_LIBRARY: a subsystem kept out of
# libcppdet.so, built on top of it (DEPS cppdet).
function(cppdet_module name)
  cmake_parse_arguments(M "TORCH;OUTSIDE_LIBRARY" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS
       ${PROJECT_SOURCE_DIR}/src/cppdet/${name}/*.cpp)
  if(CPPDET_WITH_CUDA)
    file(GLOB_RECURSE cuda_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/cppdet/${name}/*.cu)
    list(APPEND sources ${cuda_sources})
  endif()
  set(target cppdet_${name})
  if(NOT sources)  # a subsystem that has no code yet: keep its link edges valid
    add_library(${target} INTERFACE)
    target_link_libraries(${target} INTERFACE ${M_DEPS} $<$<BOOL:${M_TORCH}>:torch>)
    return()
  endif()
  add_library(${target} STATIC ${sources})
  if(NOT M_OUTSIDE_LIBRARY)
    set_property(GLOBAL APPEND PROPERTY CPPDET_SUBSYSTEMS ${name})
  endif()
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_BINARY_DIR}/src)
  target_link_libraries(${target} PUBLIC ${M_DEPS})
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>)
  if(M_TORCH)
    target_link_libraries(${target} PUBLIC torch)
    if(CPPDET_WITH_CUDA)
      target_compile_definitions(${target} PUBLIC CPPDET_WITH_CUDA=1)
    endif()
    if(CPPDET_USE_PCH)
      target_precompile_headers(${target} REUSE_FROM cppdet_torch_pch)
    endif()
  endif()
endfunction()

# cppdet_test(<module> DEPS targets...): tests/unit/<module>/*.cpp -> test_<module>, run by CTest.
function(cppdet_test module)
  cmake_parse_arguments(T "" "" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/unit/${module}/*.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(test_${module} ${sources})
  target_link_libraries(test_${module} PRIVATE ${T_DEPS} cppdet_testing GTest::gtest GTest::gtest_main)
  cppdet_use_allocator(test_${module})
  gtest_discover_tests(test_${module}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES ENVIRONMENT "CPPDET_SOURCE_DIR=${PROJECT_SOURCE_DIR};CPPDET_BINARY_DIR=${PROJECT_BINARY_DIR};CPPDET_EXE=${PROJECT_BINARY_DIR}/bin/cppdet"
    DISCOVERY_TIMEOUT 60)
endfunction()
