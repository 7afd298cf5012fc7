# test_cpu_simd_fp8_scales calls the CPU backend's MXFP8 dot products directly: it links
# the plugin's SIMD object library (backends/cpu/CMakeLists.txt) when the build has it.
if(TARGET test_cpu_simd_fp8_scales)
  if(TARGET qg_cpu_simd)
    target_link_libraries(test_cpu_simd_fp8_scales PRIVATE qg_cpu_simd)
  else()
    target_compile_definitions(test_cpu_simd_fp8_scales PRIVATE QG_TEST_NO_CPU_SIMD=1)
  endif()
endif()
