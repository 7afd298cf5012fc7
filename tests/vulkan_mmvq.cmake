# The Vulkan integer-dot-product mat-vec test, run twice: with the device's features
# (the integer path where the device has intdot, else it skips) and with
# QG_VK_DISABLE=intdot (the same cases must then take the float kernels).
if(TARGET test_vulkan_mmvq)
  set(_mmvq_env ${QG_TEST_ENV})
  set(_lvp /usr/share/vulkan/icd.d/lvp_icd.x86_64.json)
  if(EXISTS ${_lvp})
    list(APPEND _mmvq_env "VK_DRIVER_FILES=${_lvp}" "VK_ICD_FILENAMES=${_lvp}")
  endif()
  set_tests_properties(test_vulkan_mmvq PROPERTIES ENVIRONMENT "${_mmvq_env}" LABELS "unit;vulkan")
  add_test(NAME test_vulkan_mmvq_nointdot COMMAND test_vulkan_mmvq)
  set_tests_properties(test_vulkan_mmvq_nointdot PROPERTIES ENVIRONMENT "${_mmvq_env};QG_VK_DISABLE=intdot"
                       LABELS "unit;vulkan" SKIP_RETURN_CODE 77)
  if(TARGET qg-vulkan)
    add_dependencies(test_vulkan_mmvq qg-vulkan)
  endif()
endif()
