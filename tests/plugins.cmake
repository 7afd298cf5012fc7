# Plugin loader tests: the template backend built in-tree for tests, the deliberately
# broken plugins, the out-of-tree build of the template against an installed qgraph,
# and `qg devices`. Test plugins go to build/test-plugins/, never to build/lib/qgraph,
# so that default discovery only ever finds real backends.
set(QG_TEST_PLUGIN_DIR ${CMAKE_BINARY_DIR}/test-plugins)
set(QG_BAD_PLUGIN_DIR ${QG_TEST_PLUGIN_DIR}/bad)
set(QG_TEMPLATE_PLUGIN ${QG_TEST_PLUGIN_DIR}/libqg-template.so)
set(QG_TEMPLATE_SOURCE ${PROJECT_SOURCE_DIR}/plugins/template/template.c)

# The template from the same source as the out-of-tree build; tests load it by path
# through QG_TEMPLATE_PLUGIN. A second copy in dup/ checks the duplicate-name refusal.
function(qg_test_plugin target output_dir output_name)
  add_library(${target} MODULE ${ARGN})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  set_target_properties(${target} PROPERTIES PREFIX "lib" OUTPUT_NAME ${output_name}
                        LIBRARY_OUTPUT_DIRECTORY ${output_dir})
endfunction()
qg_test_plugin(qg-template-intree ${QG_TEST_PLUGIN_DIR} qg-template ${QG_TEMPLATE_SOURCE})
qg_test_plugin(qg-template-dup ${QG_TEST_PLUGIN_DIR}/dup qg-template ${QG_TEMPLATE_SOURCE})

# Broken plugins, each wrong in one way (see the comment at the top of each file).
set(QG_BAD_PLUGINS bad_abi bad_size no_entry null_vtable null_fn init_fail missing_dep)
set(QG_BAD_TARGETS "")
foreach(b ${QG_BAD_PLUGINS})
  string(REPLACE "_" "-" so ${b})
  qg_test_plugin(qg-test-${so} ${QG_BAD_PLUGIN_DIR} qg-${so}
                 ${CMAKE_CURRENT_SOURCE_DIR}/bad_plugins/${b}.c)
  list(APPEND QG_BAD_TARGETS qg-test-${so})
endforeach()
# missing_dep links a library that exists at link time only: it sits in dep/, which is
# on no run-time search path, and the plugin gets no RPATH.
add_library(qgbaddep SHARED ${CMAKE_CURRENT_SOURCE_DIR}/bad_plugins/dep.c)
set_target_properties(qgbaddep PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${QG_TEST_PLUGIN_DIR}/dep)
target_link_libraries(qg-test-missing-dep PRIVATE qgbaddep)
set_target_properties(qg-test-missing-dep PROPERTIES SKIP_BUILD_RPATH TRUE)
# Not an ELF file at all.
string(REPEAT "this is not a shared object, just text pretending to be one. " 8 QG_GARBAGE)
file(WRITE ${QG_BAD_PLUGIN_DIR}/libqg-garbage.so "${QG_GARBAGE}\n")

# Every unit test may load the template through QG_TEMPLATE_PLUGIN (set in QG_TEST_ENV by
# tests/CMakeLists.txt to the same path), so each test program depends on it.
get_property(QG_ALL_TESTS DIRECTORY PROPERTY TESTS)
foreach(t ${QG_ALL_TESTS})
  if(TARGET ${t})
    add_dependencies(${t} qg-template-intree)
  endif()
endforeach()

if(TARGET qg-cpu)
  set(QG_EXPECT_CPU 1)
else()
  set(QG_EXPECT_CPU 0)
endif()
set(QG_LOADER_TEST_ENV
  "QG_BAD_PLUGIN_DIR=${QG_BAD_PLUGIN_DIR}"
  "QG_DUP_PLUGIN=${QG_TEST_PLUGIN_DIR}/dup/libqg-template.so"
  "QG_REAL_PLUGIN_DIR=${QG_PLUGIN_OUTPUT_DIR}"
  "QG_EXPECT_CPU=${QG_EXPECT_CPU}")
if(TARGET test_plugin_load)
  add_dependencies(test_plugin_load ${QG_BAD_TARGETS} qg-template-dup)
  set_property(TEST test_plugin_load APPEND PROPERTY ENVIRONMENT ${QG_LOADER_TEST_ENV})
  # The same program in a second process: only broken plugins on the search path.
  add_test(NAME test_plugin_load_only_bad COMMAND test_plugin_load --only-bad)
  # ... and several threads racing to the first discovery.
  add_test(NAME test_plugin_load_threads COMMAND test_plugin_load --threads)
  set_tests_properties(test_plugin_load_only_bad test_plugin_load_threads PROPERTIES
    SKIP_RETURN_CODE 77 LABELS "unit" TIMEOUT 60
    ENVIRONMENT "${QG_TEST_ENV};${QG_LOADER_TEST_ENV}")
endif()

# The template built out of tree against `cmake --install` of this build, then a small
# program (also built against the installed package) running ADD + MUL_MAT on template0.
add_test(NAME plugin_template_install
  COMMAND ${CMAKE_COMMAND}
    -DBUILD_DIR=${CMAKE_BINARY_DIR}
    -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
    -DWORK_DIR=${CMAKE_BINARY_DIR}/test-install
    -DGENERATOR=${CMAKE_GENERATOR}
    -DC_COMPILER=${CMAKE_C_COMPILER}
    -DSANITIZE=${QG_SANITIZE}
    -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/install_template.cmake)
set_tests_properties(plugin_template_install PROPERTIES LABELS "install" TIMEOUT 300
  RUN_SERIAL TRUE)

# `qg devices` in text and JSON form must list the CPU plugin's two devices.
find_package(Python3 COMPONENTS Interpreter QUIET)
if(TARGET qg-cpu)
  add_test(NAME qg_devices
    COMMAND ${CMAKE_COMMAND} -DQG=$<TARGET_FILE:qg> -DPYTHON=${Python3_EXECUTABLE}
      -DOUT_DIR=${CMAKE_BINARY_DIR}/test-qg-devices
      -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/qg_devices.cmake)
  set_tests_properties(qg_devices PROPERTIES LABELS "cli" TIMEOUT 60
    ENVIRONMENT "QG_PLUGIN_PATH=${QG_PLUGIN_OUTPUT_DIR}")
endif()
