# test_cpu_gemm runs graphs through the op tests' harness (tests/ops_harness.c); it links
# the plugin's SIMD object library like the other SIMD tests (tests/cpu_simd.cmake).
if(TARGET test_cpu_gemm)
  target_sources(test_cpu_gemm PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/ops_harness.c)
endif()
# The same test with four panels per work unit (run_panels; the default is one).
if(TARGET test_cpu_gemm)
  add_test(NAME test_cpu_gemm_panels4 COMMAND test_cpu_gemm)
  set_tests_properties(test_cpu_gemm_panels4 PROPERTIES ENVIRONMENT "${QG_TEST_ENV};QG_CPU_GEMM_PANELS=4"
    SKIP_RETURN_CODE 77 LABELS "unit")
endif()
