# test_cpu_simd_fp8_rows calls the CPU backend's AVX2 FP8 dot products directly: it links
# the plugin's SIMD object library when the CPU plugin is built (as tests/cpu_simd.cmake
# does for the other SIMD tests), else it is built to skip.
if(TARGET test_cpu_simd_fp8_rows)
  if(TARGET qg_cpu_simd)
    target_link_libraries(test_cpu_simd_fp8_rows PRIVATE qg_cpu_simd)
  else()
    target_compile_definitions(test_cpu_simd_fp8_rows PRIVATE QG_TEST_NO_CPU_SIMD=1)
  endif()
endif()
