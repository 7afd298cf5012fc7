# OpenCL backend tests: run on whatever OpenCL platform the ICD loader finds (PoCL in
# CI). Compiled kernel binaries are cached in the build tree (XDG_CACHE_HOME) so test runs
# after the first skip the kernel compiler; test_opencl_cache uses its own directories.
set(QG_OCL_ENV ${QG_TEST_ENV} "XDG_CACHE_HOME=${CMAKE_BINARY_DIR}/opencl-cache")
foreach(t test_opencl test_opencl_mul_mat test_opencl_cache)
  if(TARGET ${t})
    set_tests_properties(${t} PROPERTIES ENVIRONMENT "${QG_OCL_ENV}" LABELS "unit;opencl" TIMEOUT 900)
    if(TARGET qg-opencl)
      add_dependencies(${t} qg-opencl)
    endif()
  endif()
endforeach()
if(TARGET test_opencl_mul_mat)
  # the per-type specialised programs (the default on GPUs), for a few weight types
  add_test(NAME test_opencl_mul_mat_specialized COMMAND test_opencl_mul_mat)
  set_tests_properties(test_opencl_mul_mat_specialized PROPERTIES ENVIRONMENT "${QG_OCL_ENV};QG_OPENCL_SPECIALIZE=1"
                       LABELS "unit;opencl" SKIP_RETURN_CODE 77 TIMEOUT 900)
endif()
if(TARGET qg-opencl AND TARGET simple-graph)
  add_test(NAME opencl_simple_graph COMMAND simple-graph opencl0)
  set_tests_properties(opencl_simple_graph PROPERTIES ENVIRONMENT "${QG_OCL_ENV}" LABELS "opencl;examples"
                       TIMEOUT 300)
endif()
if(TARGET qg-opencl AND TARGET qg AND EXISTS ${PROJECT_SOURCE_DIR}/tools/qg/cmd_conform.c)
  add_test(NAME opencl_conform COMMAND qg conform --backend opencl0)
  set_tests_properties(opencl_conform PROPERTIES ENVIRONMENT "${QG_OCL_ENV}" LABELS "opencl;conform"
                       TIMEOUT 1200)
endif()
