# Installation: headers, libqgraph (shared and static), plugins (done by qg_add_plugin),
# a pkg-config file and a CMake package so that find_package(qgraph) works.
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/qg DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS qgraph qgraph_static EXPORT qgraphTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT qgraphTargets NAMESPACE qgraph:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/qgraph)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/qgraphConfig.cmake.in
  ${CMAKE_BINARY_DIR}/qgraphConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/qgraph
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/qgraphConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/qgraphConfig.cmake ${CMAKE_BINARY_DIR}/qgraphConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/qgraph)

# The .pc file finds its prefix relative to itself, so an installed tree can be moved.
file(RELATIVE_PATH QG_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
set(QG_PC_REQUIRES_PRIVATE "")
if(JANSSON_FOUND)
  set(QG_PC_REQUIRES_PRIVATE "jansson")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/qgraph.pc.in ${CMAKE_BINARY_DIR}/qgraph.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/qgraph.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
