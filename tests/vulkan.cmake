# Vulkan backend tests: run on whatever Vulkan driver is present; lavapipe is selected
# explicitly when its ICD file exists (Debian mesa-vulkan-drivers), so CI finds it.
set(QG_VK_ENV ${QG_TEST_ENV})
set(_lvp /usr/share/vulkan/icd.d/lvp_icd.x86_64.json)
if(EXISTS ${_lvp})
  list(APPEND QG_VK_ENV "VK_DRIVER_FILES=${_lvp}" "VK_ICD_FILENAMES=${_lvp}")
endif()
foreach(t test_vulkan_ops test_vulkan_device test_vulkan_errors test_vulkan_features)
  if(TARGET ${t})
    set_tests_properties(${t} PROPERTIES ENVIRONMENT "${QG_VK_ENV}" LABELS "unit;vulkan")
    if(TARGET qg-vulkan)
      add_dependencies(${t} qg-vulkan)
    endif()
  endif()
endforeach()
if(TARGET qg-vulkan AND TARGET simple-graph)
  add_test(NAME vulkan_simple_graph COMMAND simple-graph vulkan0)
  set_tests_properties(vulkan_simple_graph PROPERTIES ENVIRONMENT "${QG_VK_ENV}" LABELS "vulkan;examples"
                       TIMEOUT 300)
endif()
# Conformance against cpu-ref with the qg CLI (tools/qg), when it is built.
if(TARGET qg-vulkan AND TARGET qg AND EXISTS ${PROJECT_SOURCE_DIR}/tools/qg/cmd_conform.c)
  add_test(NAME vulkan_conform COMMAND qg conform --backend vulkan0)
  set_tests_properties(vulkan_conform PROPERTIES ENVIRONMENT "${QG_VK_ENV}" LABELS "conform;vulkan"
                       TIMEOUT 900)
endif()
# The fallback kernels: conform with every optional feature hidden (QG_VK_DISABLE=all),
# limited to MUL_MAT/GET_ROWS/CPY of types whose kernels have feature variants (F16/BF16:
# 16-bit storage and float16, Q4_0/Q4_K: 8-bit storage and integer dot product) so it
# stays short (179 cases, 63 s on lavapipe with the 2 cores shared by 6 builds).
if(TARGET qg-vulkan AND TARGET qg AND EXISTS ${PROJECT_SOURCE_DIR}/tools/qg/cmd_conform.c)
  add_test(NAME vulkan_conform_fallback
           COMMAND qg conform --backend vulkan0 --ops "^(mul_mat|get_rows|cpy)$"
                   --types "^(f16|bf16|q4_0|q4_K)[*,]|->f16$")
  set_tests_properties(vulkan_conform_fallback PROPERTIES ENVIRONMENT "${QG_VK_ENV};QG_VK_DISABLE=all"
                       LABELS "conform;vulkan" TIMEOUT 300)
endif()
