# test_cpu_gemm runs graphs through the op tests' harness (tests/ops_harness.c) and asks
# the CPU backend's SIMD table whether the tiled mat-mat is compiled in (it skips
# otherwise), so it also links the plugin's SIMD object library, like test_cpu_simd.
if(TARGET test_cpu_gemm)
  target_sources(test_cpu_gemm PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/ops_harness.c)
  if(TARGET qg_cpu_simd)
    target_link_libraries(test_cpu_gemm PRIVATE qg_cpu_simd)
  else()
    target_compile_definitions(test_cpu_gemm PRIVATE QG_TEST_NO_CPU_SIMD=1)
  endif()
endif()
