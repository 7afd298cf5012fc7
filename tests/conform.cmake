# `qg conform` end to end: the CPU plugin passes the whole default catalogue; the
# template plugin passes the cases it supports (F32 ADD, MUL_MAT) and reports the rest
# UNSUPPORTED; a deliberately broken plugin (tests/broken_plugin/broken.c: the template
# with one MUL_MAT output element off by 1e-2) makes it print FAIL and exit non-zero.
set(QG_BROKEN_PLUGIN ${CMAKE_BINARY_DIR}/test-plugins/broken/libqg-broken.so)
add_library(qg-test-broken MODULE ${CMAKE_CURRENT_SOURCE_DIR}/broken_plugin/broken.c)
target_include_directories(qg-test-broken PRIVATE ${PROJECT_SOURCE_DIR}/include)
set_target_properties(qg-test-broken PROPERTIES PREFIX "lib" OUTPUT_NAME qg-broken
                      LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/test-plugins/broken)
add_dependencies(qg qg-test-broken)

set(QG_CONFORM_CHECK ${CMAKE_CURRENT_SOURCE_DIR}/broken_plugin/run_conform.cmake)
set(QG_CONFORM_SUMMARY "^[0-9]+ passed, [0-9]+ failed, [0-9]+ unsupported$")
function(qg_conform_test name expect_rc expect forbid)
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} -DQG=$<TARGET_FILE:qg> "-DARGS=${ARGN}"
    -DEXPECT_RC=${expect_rc} "-DEXPECT=${expect}" "-DFORBID=${forbid}" -P ${QG_CONFORM_CHECK})
  set_tests_properties(${name} PROPERTIES LABELS "conform" TIMEOUT 600
    ENVIRONMENT "QG_PLUGIN_PATH=${QG_PLUGIN_OUTPUT_DIR}")
endfunction()

if(TARGET qg-cpu)
  qg_conform_test(conform_cpu 0
    "${QG_CONFORM_SUMMARY};^[1-9][0-9]* passed, 0 failed, 0 unsupported$;^MUL_MAT +q4_K.* PASS$"
    " FAIL"
    conform --backend cpu)
  qg_conform_test(conform_template 0
    "${QG_CONFORM_SUMMARY};^[1-9][0-9]* passed, 0 failed, [1-9][0-9]* unsupported$;^MUL_MAT +f32\\*f32 .* PASS$;^ADD +f32,f32 .* PASS$;^MUL_MAT +q4_0\\*f32 .* UNSUPPORTED"
    " FAIL"
    conform --plugin ${CMAKE_BINARY_DIR}/test-plugins/libqg-template.so)
  qg_conform_test(conform_broken_plugin nonzero
    "${QG_CONFORM_SUMMARY};^[0-9]+ passed, [1-9][0-9]* failed, [0-9]+ unsupported$;^MUL_MAT +f32\\*f32 .* FAIL ;^ADD +f32,f32 .* PASS$"
    "^ADD .* FAIL"
    conform --plugin ${QG_BROKEN_PLUGIN})
  # The sanitizer pass of `make test` leaves out the "conform" label (the GPU-API devices
  # under ASan are too slow); the CPU catalogue runs there under its own label, so every
  # CPU kernel (SIMD and reference) is checked under AddressSanitizer + UBSan too.
  if(QG_SANITIZE)
    qg_conform_test(conform_cpu_sanitized 0
      "${QG_CONFORM_SUMMARY};^[1-9][0-9]* passed, 0 failed, 0 unsupported$" " FAIL" conform --backend cpu)
    set_tests_properties(conform_cpu_sanitized PROPERTIES LABELS "kernels-asan" TIMEOUT 1500)
  endif()
  # A different seed must work as well (and be printed).
  qg_conform_test(conform_cpu_seed 0 "seed 7$;^[1-9][0-9]* passed, 0 failed" " FAIL"
    conform --backend cpu --seed 7 --ops "^(ROPE|SOFT_MAX|CPY)$")
endif()
