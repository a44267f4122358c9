# cppdet_add_plugin(<name> <source>...): a cppdet plugin, the shared library that a config's
# `custom_imports = dict(imports=['<name>'])` loads (docs/custom_modules.md). Builds
# lib<name>.so as a MODULE library linked against cppdet::cppdet, C++17, with hidden
# visibility except for the entry points that CPPDET_PLUGIN(...) defines
# (cppdet/registry/plugin.h). Part of the installed CMake package: after
# find_package(cppdet), a user's CMakeLists calls it the same way as cppdet's own.
function(cppdet_add_plugin name)
  if(NOT ARGN)
    message(FATAL_ERROR "cppdet_add_plugin(${name}): no source files given")
  endif()
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE cppdet::cppdet)
  target_compile_features(${name} PRIVATE cxx_std_17)
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
endfunction()
