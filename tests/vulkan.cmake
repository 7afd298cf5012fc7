# Vulkan backend tests: run on whatever Vulkan driver is present; lavapipe is selected
# explicitly when its ICD file exists (Debian mesa-vulkan-drivers), so CI finds it.
set(QG_VK_ENV ${QG_TEST_ENV})
set(_lvp /usr/share/vulkan/icd.d/lvp_icd.x86_64.json)
if(EXISTS ${_lvp})
  list(APPEND QG_VK_ENV "VK_DRIVER_FILES=${_lvp}" "VK_ICD_FILENAMES=${_lvp}")
endif()
foreach(t test_vulkan_ops test_vulkan_device test_vulkan_errors)
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
