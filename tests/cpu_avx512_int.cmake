# test_cpu_avx512_int: the AVX-512 VNNI integer dot products (backends/cpu/simd_avx512_int.h:
# the block-32 types and the K-quants) run under the Bochs CPU emulator
# (tools/emu/qg_emu.py, Python package bochscpu-python), checked by tests/avx512_int_check.c
# against the scalar references. The guest (tests/avx512_int_guest.c + the kernel files) is
# a static freestanding ELF built with the C compiler directly, like the one of
# tests/cpu_avx512.cmake (included first), whose LD_PRELOAD shim for the wheel's glibc
# 2.38 symbols this test uses too. Skips (77) where bochscpu cannot be imported.
if(QG_CPU_HAVE_AVX512 AND TARGET qgraph AND TARGET qg_avx512_guest)
  set(vnni_dir ${CMAKE_CURRENT_BINARY_DIR}/avx512_int)
  set(vnni_srcs ${PROJECT_SOURCE_DIR}/backends/cpu/simd_avx512_int.c
      ${PROJECT_SOURCE_DIR}/backends/cpu/simd_avx512_legacy.c
      ${PROJECT_SOURCE_DIR}/backends/cpu/simd_avx512_kquants.c ${CMAKE_CURRENT_SOURCE_DIR}/avx512_int_guest.c)
  set(vnni_cflags -std=c11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-stack-protector -fno-pie
      -fcf-protection=none -mno-red-zone -I${PROJECT_SOURCE_DIR} -I${PROJECT_SOURCE_DIR}/include
      -I${PROJECT_SOURCE_DIR}/backends/cpu -I${CMAKE_CURRENT_SOURCE_DIR})
  set(vnni_objs "")
  set(vnni_cmds "")
  foreach(src ${vnni_srcs})
    get_filename_component(stem ${src} NAME_WE)
    list(APPEND vnni_cmds COMMAND ${CMAKE_C_COMPILER} ${vnni_cflags} ${QG_CPU_AVX512_FLAGS} -c ${src}
         -o ${vnni_dir}/${stem}.o)
    list(APPEND vnni_objs ${vnni_dir}/${stem}.o)
  endforeach()
  file(GLOB vnni_headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/backends/cpu/*.h ${PROJECT_SOURCE_DIR}/include/qg/*.h
       ${PROJECT_SOURCE_DIR}/core/quant/*.h)
  add_custom_command(OUTPUT ${vnni_dir}/guest.elf
    COMMAND ${CMAKE_COMMAND} -E make_directory ${vnni_dir}
    ${vnni_cmds}
    COMMAND ${CMAKE_C_COMPILER} -nostdlib -static -no-pie -Wl,-e,qg_guest_entry -Wl,--build-id=none
            -o ${vnni_dir}/guest.elf ${vnni_objs}
    DEPENDS ${vnni_srcs} ${vnni_headers} ${CMAKE_CURRENT_SOURCE_DIR}/avx512_int_guest.h
    COMMENT "AVX-512 VNNI emulator guest" VERBATIM)
  add_custom_target(qg_avx512_int_guest ALL DEPENDS ${vnni_dir}/guest.elf)

  add_executable(test_cpu_avx512_int ${CMAKE_CURRENT_SOURCE_DIR}/avx512_int_check.c ${CMAKE_CURRENT_SOURCE_DIR}/testrand.c)
  target_include_directories(test_cpu_avx512_int PRIVATE ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(test_cpu_avx512_int PRIVATE qgraph m)
  add_dependencies(test_cpu_avx512_int qg_avx512_int_guest qg_avx512_guest) # qg_avx512_guest: the shim
  add_test(NAME test_cpu_avx512_int COMMAND test_cpu_avx512_int ${vnni_dir}/guest.elf
           ${PROJECT_SOURCE_DIR}/tools/emu/qg_emu.py)
  set_tests_properties(test_cpu_avx512_int PROPERTIES SKIP_RETURN_CODE 77 LABELS "unit" TIMEOUT 300 ENVIRONMENT
    "${QG_TEST_ENV};QG_EMU_PYTHON=${QG_EMU_PYTHON};QG_EMU_SHIM=${emu_dir}/libqg_emu_shim.so")
endif()
