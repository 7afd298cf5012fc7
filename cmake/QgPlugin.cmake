# qg_add_plugin(NAME src...): a backend plugin libqg-NAME.so in build/lib/qgraph,
# installed to <libdir>/qgraph. Plugins link the shared core library.
function(qg_add_plugin name)
  set(target qg-${name})
  add_library(${target} MODULE ${ARGN})
  target_link_libraries(${target} PRIVATE qgraph Threads::Threads m)
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    LIBRARY_OUTPUT_DIRECTORY ${QG_PLUGIN_OUTPUT_DIR}
    INSTALL_RPATH "$ORIGIN/.."
    BUILD_RPATH "${CMAKE_BINARY_DIR}/lib")
  install(TARGETS ${target} LIBRARY DESTINATION ${QG_PLUGIN_INSTALL_DIR})
endfunction()

# qg_backend_option(VAR found reason): resolve an AUTO/ON/OFF option, record the outcome.
function(qg_backend_decision name var found reason)
  if(${var} STREQUAL "OFF")
    set(QG_SKIPPED_BACKENDS "${QG_SKIPPED_BACKENDS} ${name}(disabled)" PARENT_SCOPE)
    set(QG_BUILD_${name} OFF PARENT_SCOPE)
  elseif(found)
    set(QG_BUILT_BACKENDS "${QG_BUILT_BACKENDS} ${name}" PARENT_SCOPE)
    set(QG_BUILD_${name} ON PARENT_SCOPE)
  elseif(${var} STREQUAL "ON")
    message(FATAL_ERROR "${name} backend requested but ${reason}")
  else()
    set(QG_SKIPPED_BACKENDS "${QG_SKIPPED_BACKENDS} ${name}(${reason})" PARENT_SCOPE)
    set(QG_BUILD_${name} OFF PARENT_SCOPE)
  endif()
endfunction()
