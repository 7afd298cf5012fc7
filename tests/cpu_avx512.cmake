# test_cpu_avx512: the AVX-512 kernels of the CPU backend, run under the Bochs CPU
# emulator (tools/emu/qg_emu.py, Python package bochscpu-python) since the build machines
# lack AVX-512. The guest program (tests/avx512_guest.c + every backends/cpu/simd_avx512*.c
# + backends/cpu/simd_table_avx512.c + tools/emu/guest_rt.c) is a static freestanding ELF
# built here with the C compiler directly, so that the project's flags (sanitizers,
# coverage) stay out of it; so is the LD_PRELOAD shim for the wheel's glibc 2.38 symbols.
# test_cpu_avx512_choice checks natively which table cpu_simd_best() picks.
foreach(t test_cpu_avx512 test_cpu_avx512_choice)
  if(TARGET ${t})
    if(TARGET qg_cpu_simd)
      target_link_libraries(${t} PRIVATE qg_cpu_simd)
    else()
      target_compile_definitions(${t} PRIVATE QG_TEST_NO_CPU_SIMD=1)
    endif()
  endif()
endforeach()

if(TARGET test_cpu_avx512)
  target_sources(test_cpu_avx512 PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/simd_case_data.c)
  if(QG_CPU_HAVE_AVX512)
    set(emu_dir ${CMAKE_CURRENT_BINARY_DIR}/avx512)
    file(GLOB QG_EMU_KERNELS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/backends/cpu/simd_avx512*.c)
    file(GLOB QG_EMU_HEADERS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/backends/cpu/*.h ${PROJECT_SOURCE_DIR}/include/qg/*.h)
    set(emu_cflags -std=c11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-builtin -fno-stack-protector -fno-pie
        -fcf-protection=none -mno-red-zone -I${PROJECT_SOURCE_DIR} -I${PROJECT_SOURCE_DIR}/include
        -I${PROJECT_SOURCE_DIR}/backends/cpu -I${CMAKE_CURRENT_SOURCE_DIR})
    set(emu_objs "")
    set(emu_cmds "")
    foreach(src ${QG_EMU_KERNELS})
      get_filename_component(stem ${src} NAME_WE)
      list(APPEND emu_cmds COMMAND ${CMAKE_C_COMPILER} ${emu_cflags} ${QG_CPU_AVX512_FLAGS} -c ${src} -o ${emu_dir}/${stem}.o)
      list(APPEND emu_objs ${emu_dir}/${stem}.o)
    endforeach()
    foreach(src ${PROJECT_SOURCE_DIR}/backends/cpu/simd_table_avx512.c ${CMAKE_CURRENT_SOURCE_DIR}/avx512_guest.c
                ${PROJECT_SOURCE_DIR}/tools/emu/guest_rt.c)
      get_filename_component(stem ${src} NAME_WE)
      list(APPEND emu_cmds COMMAND ${CMAKE_C_COMPILER} ${emu_cflags} -c ${src} -o ${emu_dir}/${stem}.o)
      list(APPEND emu_objs ${emu_dir}/${stem}.o)
    endforeach()
    add_custom_command(OUTPUT ${emu_dir}/avx512_guest.elf
      COMMAND ${CMAKE_COMMAND} -E make_directory ${emu_dir}
      ${emu_cmds}
      COMMAND ${CMAKE_C_COMPILER} -nostdlib -static -no-pie -Wl,-e,qg_guest_main -Wl,--build-id=none
              -o ${emu_dir}/avx512_guest.elf ${emu_objs}
      DEPENDS ${QG_EMU_KERNELS} ${QG_EMU_HEADERS} ${PROJECT_SOURCE_DIR}/backends/cpu/simd_table_avx512.c
              ${CMAKE_CURRENT_SOURCE_DIR}/avx512_guest.c ${CMAKE_CURRENT_SOURCE_DIR}/avx512_job.h
              ${PROJECT_SOURCE_DIR}/tools/emu/guest_rt.c
      COMMENT "AVX-512 emulator guest" VERBATIM)
    add_custom_command(OUTPUT ${emu_dir}/libqg_emu_shim.so
      COMMAND ${CMAKE_COMMAND} -E make_directory ${emu_dir}
      COMMAND ${CMAKE_C_COMPILER} -shared -fPIC -O2 -Wall -Wextra -Werror -o ${emu_dir}/libqg_emu_shim.so
              ${PROJECT_SOURCE_DIR}/tools/emu/shim.c
      DEPENDS ${PROJECT_SOURCE_DIR}/tools/emu/shim.c COMMENT "bochscpu glibc shim" VERBATIM)
    add_custom_target(qg_avx512_guest ALL DEPENDS ${emu_dir}/avx512_guest.elf ${emu_dir}/libqg_emu_shim.so)
    add_dependencies(test_cpu_avx512 qg_avx512_guest)
    find_program(QG_EMU_PYTHON NAMES python3 python)
    set_tests_properties(test_cpu_avx512 PROPERTIES TIMEOUT 300 ENVIRONMENT
      "${QG_TEST_ENV};QG_EMU_GUEST=${emu_dir}/avx512_guest.elf;QG_EMU_RUNNER=${PROJECT_SOURCE_DIR}/tools/emu/qg_emu.py;QG_EMU_PYTHON=${QG_EMU_PYTHON};QG_EMU_SHIM=${emu_dir}/libqg_emu_shim.so")
  else()
    target_compile_definitions(test_cpu_avx512 PRIVATE QG_TEST_NO_CPU_AVX512=1)
  endif()
endif()
