# Installation (`cmake --install build --prefix P`), the CMake package
# (find_package(cppdet 0.1) -> cppdet::cppdet, cppdet_add_plugin()), the pkg-config file and
# CPack's Debian packages. Layout under P (docs/build.md, "Installing"):
#   bin/cppdet                              the executable
#   lib/libcppdet.so.<version>              the library (+ .so.<ABI> and .so links)
#   lib/cppdet/plugins/libaugfpn.so         the shipped plugins
#   lib/cmake/cppdet/                       cppdetConfig.cmake, version file, targets
#   lib/pkgconfig/cppdet.pc
#   include/cppdet/...                      the headers (apis/ is the public API; plugins
#                                           use models/, registry/, config/ too)
#   share/cppdet/configs/                   the shipped configs
#   share/cppdet/examples/                  quick_run.cpp and the AugFPN plugin's sources
# Components: Runtime (executable, library, plugins, configs) and Development (the rest).
# The build folder is a package too (cppdet_DIR=<build>; cmake/cppdetBuildTreeConfig.cmake.in).
include(CMakePackageConfigHelpers)

set(CPPDET_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/cppdet)

install(TARGETS cppdet EXPORT cppdetTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Runtime NAMELINK_COMPONENT Development)
install(EXPORT cppdetTargets NAMESPACE cppdet:: DESTINATION ${CPPDET_CMAKE_INSTALL_DIR} COMPONENT Development)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/cppdet DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT Development FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/src/cppdet/version.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cppdet
  COMPONENT Development)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/configs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/cppdet/configs COMPONENT Runtime)
install(FILES ${PROJECT_SOURCE_DIR}/examples/CMakeLists.txt ${PROJECT_SOURCE_DIR}/examples/quick_run.cpp
  DESTINATION ${CMAKE_INSTALL_DATADIR}/cppdet/examples COMPONENT Development)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/plugins DESTINATION ${CMAKE_INSTALL_DATADIR}/cppdet/examples
  COMPONENT Development)

# The CMake package.
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/cppdetConfig.cmake.in
  ${PROJECT_BINARY_DIR}/package/cppdetConfig.cmake INSTALL_DESTINATION ${CPPDET_CMAKE_INSTALL_DIR}
  PATH_VARS CPPDET_PLUGIN_INSTALL_DIR CMAKE_INSTALL_DATADIR)
# 0.x: a minor version may change the ABI, so find_package(cppdet 0.1) accepts 0.1.* only.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/cppdetConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/package/cppdetConfig.cmake ${PROJECT_BINARY_DIR}/package/cppdetConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/cppdetPlugin.cmake
  DESTINATION ${CPPDET_CMAKE_INSTALL_DIR} COMPONENT Development)

# The same package for the build folder: find_package(cppdet) with cppdet_DIR=<build>.
export(EXPORT cppdetTargets NAMESPACE cppdet:: FILE ${PROJECT_BINARY_DIR}/cppdetTargets.cmake)
configure_file(${PROJECT_SOURCE_DIR}/cmake/cppdetBuildTreeConfig.cmake.in ${PROJECT_BINARY_DIR}/cppdetConfig.cmake @ONLY)
configure_file(${PROJECT_BINARY_DIR}/package/cppdetConfigVersion.cmake ${PROJECT_BINARY_DIR}/cppdetConfigVersion.cmake COPYONLY)

# pkg-config: cppdet's own flags plus LibTorch's (which has no .pc file).
get_target_property(cppdet_torch_library torch IMPORTED_LOCATION)
if(NOT cppdet_torch_library)
  set(cppdet_torch_library ${TORCH_LIBRARY})
endif()
get_filename_component(CPPDET_PC_TORCH_LIBDIR ${cppdet_torch_library} DIRECTORY)
set(CPPDET_PC_TORCH_CFLAGS "${TORCH_CXX_FLAGS}")
foreach(dir IN LISTS TORCH_INCLUDE_DIRS)
  string(APPEND CPPDET_PC_TORCH_CFLAGS " -I${dir}")
endforeach()
file(RELATIVE_PATH CPPDET_PC_PREFIX_FROM_PCDIR ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(${PROJECT_SOURCE_DIR}/cmake/cppdet.pc.in ${PROJECT_BINARY_DIR}/package/cppdet.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/package/cppdet.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT Development)

# `cpack -G DEB` (run in the build folder): cppdet_<version>_<arch>.deb (Runtime; Depends
# computed by dpkg-shlibdeps) and cppdet-dev_<version>_<arch>.deb (Development; Depends on
# cppdet and the -dev packages that find_package(cppdet) finds).
set(CPACK_PACKAGE_NAME cppdet)
set(CPACK_PACKAGE_VENDOR "cppdet")
set(CPACK_PACKAGE_CONTACT "cppdet maintainers <cppdet@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "MMDetection-compatible object detection in C++ (LibTorch)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL Runtime Development)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME cppdet)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
# dpkg-shlibdeps runs in the staging folder, where libcppdet is not yet a package's.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS usr/${CMAKE_INSTALL_LIBDIR})
# A shlibs file, so that packages built against libcppdet depend on this exact version (0.x).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME cppdet-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
  "cppdet (= ${PROJECT_VERSION}), libtorch-dev, libopencv-dev, nlohmann-json3-dev, cmake | pkg-config")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
include(CPack)
