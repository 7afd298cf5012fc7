# Fault injection, plugin isolation and concurrency (issue #10): the "fault" test plugin
# (fails its N-th compute or buffer_alloc on request), the "crash-init" plugin (segfaults
# in init, for the QG_PLUGIN_PROBE test), and the environment of the tests using them.
# Both plugins go to build/test-plugins/, never to build/lib/qgraph, so that default
# discovery never finds them.
set(QG_FAULT_PLUGIN_DIR ${CMAKE_BINARY_DIR}/test-plugins/fault)
set(QG_CRASH_PLUGIN_DIR ${CMAKE_BINARY_DIR}/test-plugins/crash)
foreach(p fault crash_init)
  string(REPLACE "_" "-" so ${p})
  add_library(qg-test-${so} MODULE ${CMAKE_CURRENT_SOURCE_DIR}/fault_plugin/${p}.c)
  target_include_directories(qg-test-${so} PRIVATE ${PROJECT_SOURCE_DIR}/include)
endforeach()
set_target_properties(qg-test-fault PROPERTIES PREFIX "lib" OUTPUT_NAME qg-fault
                      LIBRARY_OUTPUT_DIRECTORY ${QG_FAULT_PLUGIN_DIR})
# A real NULL store, not a sanitizer report, even in the sanitizer builds.
target_compile_options(qg-test-crash-init PRIVATE -fno-sanitize=all)
set_target_properties(qg-test-crash-init PROPERTIES PREFIX "lib" OUTPUT_NAME qg-crash-init
                      LIBRARY_OUTPUT_DIRECTORY ${QG_CRASH_PLUGIN_DIR})

set(QG_FAULT_TEST_ENV
  "QG_FAULT_PLUGIN=${QG_FAULT_PLUGIN_DIR}/libqg-fault.so"
  "QG_CRASH_PLUGIN=${QG_CRASH_PLUGIN_DIR}/libqg-crash-init.so")
if(TARGET qg)
  list(APPEND QG_FAULT_TEST_ENV "QG_CLI=$<TARGET_FILE:qg>")
endif()
foreach(t test_fault_alloc test_fault_compute test_probe test_concurrency)
  if(TARGET ${t})
    set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT ${QG_FAULT_TEST_ENV})
    set_tests_properties(${t} PROPERTIES TIMEOUT 120)
  endif()
endforeach()
# Only what each test loads, so that tools/tsan-check.sh builds test_concurrency alone.
if(TARGET test_fault_compute)
  add_dependencies(test_fault_compute qg-test-fault)
endif()
if(TARGET test_probe)
  add_dependencies(test_probe qg-test-crash-init)
  if(TARGET qg)
    add_dependencies(test_probe qg)
  endif()
endif()
