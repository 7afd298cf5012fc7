# test_cpu_simd_rows_dot calls the CPU backend's multi-row dot products directly, so it
# links the plugin's object library (as tests/cpu_simd.cmake does for the other SIMD tests).
if(TARGET test_cpu_simd_rows_dot)
  if(TARGET qg_cpu_simd)
    target_link_libraries(test_cpu_simd_rows_dot PRIVATE qg_cpu_simd)
  else()
    target_compile_definitions(test_cpu_simd_rows_dot PRIVATE QG_TEST_NO_CPU_SIMD=1)
  endif()
endif()
