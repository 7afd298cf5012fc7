# CUDA backend tests. Without a CUDA driver/device (CI) test_cuda_ops and cuda_conform
# report SKIPPED (77); test_cuda_load runs everywhere the plugin is built and checks that
# the plugin fails to load cleanly without a driver while the cpu plugin carries on
# (or, with a GPU, that cuda0 is listed and usable).
foreach(t test_cuda_ops test_cuda_load)
  if(TARGET ${t})
    set_tests_properties(${t} PROPERTIES LABELS "unit;cuda" SKIP_RETURN_CODE 77 TIMEOUT 600)
    if(TARGET qg-cuda)
      add_dependencies(${t} qg-cuda)
    endif()
  endif()
endforeach()
if(TARGET qg-cuda AND TARGET qg)
  # `qg devices` still lists the cpu device whatever the CUDA plugin does.
  add_test(NAME cuda_qg_devices COMMAND qg devices)
  set_tests_properties(cuda_qg_devices PROPERTIES ENVIRONMENT "${QG_TEST_ENV}" LABELS "cuda"
                       PASS_REGULAR_EXPRESSION "\n  cpu \\(plugin cpu\\)\n" TIMEOUT 120)
  # `qg conform --backend cuda0`: reported as skipped when cuda0 cannot be opened (no
  # driver/device: qg prints "cannot open device 'cuda0'").
  if(EXISTS ${PROJECT_SOURCE_DIR}/tools/qg/cmd_conform.c)
    add_test(NAME cuda_conform COMMAND qg conform --backend cuda0)
    set_tests_properties(cuda_conform PROPERTIES ENVIRONMENT "${QG_TEST_ENV}" LABELS "conform;cuda"
                         SKIP_REGULAR_EXPRESSION "cannot open device 'cuda0'" TIMEOUT 1200)
  endif()
endif()
# The device mode of `qg bench memory` (written with the CUDA plugin, works on any device):
# a small run on the cpu device must print its JSON line.
if(TARGET qg AND TARGET qg-cpu)
  add_test(NAME qg_bench_memory_device
           COMMAND qg bench memory --backend cpu --size 8M --passes 1 --copies 2 --json)
  set_tests_properties(qg_bench_memory_device PROPERTIES ENVIRONMENT "${QG_TEST_ENV}" LABELS "cli"
                       PASS_REGULAR_EXPRESSION "^{\"backend\": \"cpu\", \"size\": 8388608, \"passes\": 1, \"copies\": 2, \"convention\": \"read\\+write\", \"gbps\": [0-9.]+, \"gbps_mean\": [0-9.]+, \"gbps_read\": [0-9.]+}"
                       TIMEOUT 60)
endif()
