# The SIMD tests call the CPU backend's SIMD functions directly (test_cpu_gemm asks its
# table whether the tiled mat-mat is compiled in): they link the plugin's object library
# (backends/cpu/CMakeLists.txt), which exists whenever the CPU plugin is built.
if(TARGET test_cpu_simd)
  target_sources(test_cpu_simd PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/simd_case_data.c)
endif()
foreach(t test_cpu_simd test_cpu_simd_mul_mat test_cpu_simd_rows2 test_cpu_simd_rows_dot
          test_cpu_simd_fp8_scales test_cpu_gemm)
  if(TARGET ${t})
    if(TARGET qg_cpu_simd)
      target_link_libraries(${t} PRIVATE qg_cpu_simd)
    else()
      target_compile_definitions(${t} PRIVATE QG_TEST_NO_CPU_SIMD=1)
    endif()
  endif()
endforeach()

# The NEON code, cross-compiled for aarch64 and run under qemu-user (Debian packages
# gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, qemu-user). The test compiles the program
# itself, so a missing or broken cross toolchain fails (or skips) this test only.
find_program(QG_AARCH64_CC aarch64-linux-gnu-gcc)
find_program(QG_QEMU_AARCH64 qemu-aarch64)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$" AND TARGET qg_cpu_simd)
  add_executable(cpu_simd_neon_check ${CMAKE_CURRENT_SOURCE_DIR}/cpu_simd_neon_check.c
    ${CMAKE_CURRENT_SOURCE_DIR}/cpu_simd_neon_check_rows.c ${CMAKE_CURRENT_SOURCE_DIR}/testrand.c ${CMAKE_CURRENT_SOURCE_DIR}/simd_case_data.c)
  target_link_libraries(cpu_simd_neon_check PRIVATE qg_cpu_simd qgraph m)
  # the tiled mat-mat's checker is a program of its own (cpu_simd_neon_check_gemm.c)
  add_executable(cpu_simd_neon_check_gemm ${CMAKE_CURRENT_SOURCE_DIR}/cpu_simd_neon_check_gemm.c
    ${CMAKE_CURRENT_SOURCE_DIR}/testrand.c ${CMAKE_CURRENT_SOURCE_DIR}/simd_case_data.c)
  target_link_libraries(cpu_simd_neon_check_gemm PRIVATE qg_cpu_simd qgraph m)
  add_test(NAME test_cpu_simd_neon
    COMMAND sh -c "$<TARGET_FILE:cpu_simd_neon_check> && $<TARGET_FILE:cpu_simd_neon_check_gemm>")
elseif(QG_AARCH64_CC AND QG_QEMU_AARCH64)
  file(GLOB QG_NEON_CORE_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/core/quant/*.c)
  list(APPEND QG_NEON_CORE_SOURCES ${PROJECT_SOURCE_DIR}/core/types.c ${PROJECT_SOURCE_DIR}/core/error.c)
  set(neon_dir ${CMAKE_CURRENT_BINARY_DIR}/neon)
  set(neon_cc "${QG_AARCH64_CC} -O1 -std=c11 -Wall -Wextra -Werror -I${PROJECT_SOURCE_DIR}/include -I${PROJECT_SOURCE_DIR} -I${PROJECT_SOURCE_DIR}/backends/cpu")
  string(REPLACE ";" " " neon_core "${QG_NEON_CORE_SOURCES}")
  # every backends/cpu/simd_neon*.c file, built with the dot-product extension
  file(GLOB QG_NEON_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/backends/cpu/simd_neon*.c)
  set(neon_script "mkdir -p ${neon_dir}")
  set(neon_objs "")
  foreach(src ${QG_NEON_SOURCES})
    get_filename_component(stem ${src} NAME_WE)
    string(APPEND neon_script " && ${neon_cc} -march=armv8.2-a+dotprod -c ${src} -o ${neon_dir}/${stem}.o")
    string(APPEND neon_objs " ${neon_dir}/${stem}.o")
  endforeach()
  string(APPEND neon_script " && ${neon_cc} -DQG_CPU_NEON=1 -o ${neon_dir}/cpu_simd_neon_check ${CMAKE_CURRENT_SOURCE_DIR}/cpu_simd_neon_check.c ${CMAKE_CURRENT_SOURCE_DIR}/cpu_simd_neon_check_rows.c ${CMAKE_CURRENT_SOURCE_DIR}/testrand.c ${CMAKE_CURRENT_SOURCE_DIR}/simd_case_data.c ${PROJECT_SOURCE_DIR}/backends/cpu/simd_table.c ${PROJECT_SOURCE_DIR}/backends/cpu/cpuinfo.c ${neon_core}${neon_objs} -lm -lpthread && ${QG_QEMU_AARCH64} -L /usr/aarch64-linux-gnu ${neon_dir}/cpu_simd_neon_check")
  # the tiled mat-mat's checker, a program of its own, run after the first one passed
  string(APPEND neon_script " && ${neon_cc} -DQG_CPU_NEON=1 -o ${neon_dir}/cpu_simd_neon_check_gemm ${CMAKE_CURRENT_SOURCE_DIR}/cpu_simd_neon_check_gemm.c ${CMAKE_CURRENT_SOURCE_DIR}/testrand.c ${CMAKE_CURRENT_SOURCE_DIR}/simd_case_data.c ${PROJECT_SOURCE_DIR}/backends/cpu/simd_table.c ${PROJECT_SOURCE_DIR}/backends/cpu/cpuinfo.c ${neon_core}${neon_objs} -lm -lpthread && ${QG_QEMU_AARCH64} -L /usr/aarch64-linux-gnu ${neon_dir}/cpu_simd_neon_check_gemm")
  add_test(NAME test_cpu_simd_neon COMMAND sh -c "${neon_script}")
else()
  add_test(NAME test_cpu_simd_neon COMMAND sh -c "echo 'SKIPPED: needs aarch64-linux-gnu-gcc and qemu-aarch64 on a non-ARM host'; exit 77")
endif()
set_tests_properties(test_cpu_simd_neon PROPERTIES SKIP_RETURN_CODE 77 LABELS "unit" TIMEOUT 600)
