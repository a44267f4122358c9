# CTest Package.InstallAndConsume (cmake -P): installs the build into a temporary prefix and
# uses it as an installed user would (docs/inference.md, "Use cppdet from your CMake project"):
#   1. `cmake --install BUILD_DIR --prefix WORK_DIR/prefix`; pkg-config resolves cppdet.pc;
#   2. examples/ configured and built on its own against that prefix (find_package(cppdet)):
#      quick_run.cpp and the AugFPN plugin, one torch translation unit each;
#   3. the installed `cppdet` builds a model with neck=AugFPN, loading the shipped plugin that
#      it finds next to its libcppdet (no CPPDET_PLUGIN_PATH);
#   4. quick_run detects objects in the demo image with the tiny Faster R-CNN and writes
#      result.jpg, then runs a config with custom_imports=['augfpn'] after the shipped plugin is
#      removed: it loads the plugin built in step 2, found through CPPDET_PLUGIN_PATH.
# Arguments: -DSOURCE_DIR= -DBUILD_DIR= -DWORK_DIR= -DGENERATOR= -DCXX_COMPILER= [-DCOMPILER_LAUNCHER=]
foreach(var SOURCE_DIR BUILD_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_consumer.cmake: -D${var}= is required")
  endif()
endforeach()

# Runs a command; any failure ends the test with its output. Extra options go to execute_process.
function(step what)
  string(TIMESTAMP start "%s")
  execute_process(${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  string(TIMESTAMP end "%s")
  math(EXPR seconds "${end} - ${start}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}")
  endif()
  message(STATUS "${what}: ok (${seconds} s)")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
set(consumer ${WORK_DIR}/consumer)
set(tiny ${SOURCE_DIR}/tests/fixtures/oracle_cases/faster_tiny_r50)
set(demo ${SOURCE_DIR}/demo/demo.jpg)

step("install" COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
file(GLOB libdir_pc LIST_DIRECTORIES false ${prefix}/lib*/pkgconfig/cppdet.pc ${prefix}/lib/*/pkgconfig/cppdet.pc)
get_filename_component(pc_dir "${libdir_pc}" DIRECTORY)
find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  step("pkg-config" COMMAND ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${pc_dir} ${PKG_CONFIG} --cflags --libs cppdet)
  string(REGEX MATCH "^-I([^ \n]+)" include_flag "${step_output}")
  if(NOT EXISTS "${CMAKE_MATCH_1}/cppdet/apis/inference.h" OR NOT step_output MATCHES "-lcppdet")
    message(FATAL_ERROR "pkg-config cppdet: unexpected flags: ${step_output}")
  endif()
endif()

set(launcher)
if(COMPILER_LAUNCHER)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${COMPILER_LAUNCHER})
endif()
step("configure examples/ against the installed package"
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples -B ${consumer} -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
          -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${prefix} ${launcher})
step("build quick_run and the AugFPN plugin" COMMAND ${CMAKE_COMMAND} --build ${consumer} -j 1)

# The AugFPN model's config, in a folder of its own (the plugin is not next to it).
file(MAKE_DIRECTORY ${WORK_DIR}/augfpn)
file(WRITE ${WORK_DIR}/augfpn/config.py
  "_base_ = '${tiny}/config.py'\n"
  "custom_imports = dict(imports=['augfpn'], allow_failed_imports=False)\n"
  "model = dict(neck=dict(type='AugFPN', pool_ratios=[0.1, 0.2, 0.3]))\n")

step("installed cppdet loads the shipped AugFPN plugin"
  COMMAND ${CMAKE_COMMAND} -E env --unset=CPPDET_PLUGIN_PATH ${prefix}/bin/cppdet checkpoint model ${WORK_DIR}/augfpn/config.py)
if(NOT step_output MATCHES "neck\\.rfa_fusion\\.0\\.weight")
  message(FATAL_ERROR "the AugFPN parameters are missing from the model's state_dict:\n${step_output}")
endif()

file(MAKE_DIRECTORY ${WORK_DIR}/run)
step("quick_run on the demo image" COMMAND ${consumer}/quick_run ${tiny}/config.py ${tiny}/checkpoint_zip.pth ${demo}
  WORKING_DIRECTORY ${WORK_DIR}/run)
if(NOT EXISTS ${WORK_DIR}/run/result.jpg)
  message(FATAL_ERROR "quick_run wrote no result.jpg")
endif()

file(GLOB shipped ${prefix}/lib*/cppdet/plugins/libaugfpn.so ${prefix}/lib/*/cppdet/plugins/libaugfpn.so)
file(REMOVE ${shipped})
file(REMOVE ${WORK_DIR}/run/result.jpg)
step("quick_run with the AugFPN plugin built against the package (random weights)"
  # sh passes the empty CHECKPOINT argument (random weights), which execute_process drops.
  COMMAND ${CMAKE_COMMAND} -E env CPPDET_PLUGIN_PATH=${consumer}/plugins/augfpn
          sh -c "\"$0\" \"$1\" '' \"$2\"" ${consumer}/quick_run ${WORK_DIR}/augfpn/config.py ${demo}
  WORKING_DIRECTORY ${WORK_DIR}/run)
if(NOT EXISTS ${WORK_DIR}/run/result.jpg)
  message(FATAL_ERROR "quick_run with AugFPN wrote no result.jpg")
endif()
file(REMOVE_RECURSE ${WORK_DIR})
