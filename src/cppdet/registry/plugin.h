#pragma once
// The entry points of a cppdet plugin: a shared library that a config loads with
//   custom_imports = dict(imports=['augfpn'], allow_failed_imports=False)
// (apis/plugins.h finds and loads it; docs/custom_modules.md). In one source file of the
// plugin, after the function that registers its components:
//
//   void register_augfpn() {
//     cppdet::models::neck_registry().add("AugFPN", [](const cppdet::BuildContext& ctx) { ... });
//   }
//   CPPDET_PLUGIN(register_augfpn)
//
// CPPDET_PLUGIN defines two extern "C" functions:
//   const char* cppdet_plugin_abi()    the ABI the plugin was compiled against (CPPDET_PLUGIN_ABI)
//   void cppdet_plugin_register()      calls the registration function
// The loader calls the second only when the first equals its own CPPDET_PLUGIN_ABI: the same
// plugin protocol, cppdet ABI version (libcppdet.so.<ABI>), LibTorch major.minor and
// libstdc++ string ABI. Registration errors (a name registered twice) propagate as exceptions.
#include <torch/version.h>

#include <cstddef>  // libstdc++'s configuration: _GLIBCXX_USE_CXX11_ABI

#include "cppdet/version.h"

// Version of the entry points above; a change to them increments it.
#define CPPDET_PLUGIN_PROTOCOL 1

#define CPPDET_PLUGIN_STRINGIFY_(x) #x
#define CPPDET_PLUGIN_STRINGIFY(x) CPPDET_PLUGIN_STRINGIFY_(x)

// e.g. "cppdet-plugin 1; cppdet 0.1; torch 1.13; cxx11-abi 1"
#define CPPDET_PLUGIN_ABI                                                                    \
  "cppdet-plugin " CPPDET_PLUGIN_STRINGIFY(CPPDET_PLUGIN_PROTOCOL) "; cppdet " CPPDET_ABI_VERSION \
  "; torch " CPPDET_PLUGIN_STRINGIFY(TORCH_VERSION_MAJOR) "." CPPDET_PLUGIN_STRINGIFY(         \
      TORCH_VERSION_MINOR) "; cxx11-abi " CPPDET_PLUGIN_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)

#define CPPDET_PLUGIN(register_function)                                                     \
  extern "C" __attribute__((visibility("default"))) const char* cppdet_plugin_abi() {       \
    return CPPDET_PLUGIN_ABI;                                                                \
  }                                                                                          \
  extern "C" __attribute__((visibility("default"))) void cppdet_plugin_register() { register_function(); }
