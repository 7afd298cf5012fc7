# test_cpu_gemm runs graphs through the op tests' harness (tests/ops_harness.c); it links
# the plugin's SIMD object library like the other SIMD tests (tests/cpu_simd.cmake).
if(TARGET test_cpu_gemm)
  target_sources(test_cpu_gemm PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/ops_harness.c)
endif()
