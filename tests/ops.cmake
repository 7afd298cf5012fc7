# The op tests share tests/ops_harness.c (graph runs on cpu/cpu-ref and comparisons).
foreach(t test_ops test_ops_rows test_ops_mul_mat)
  if(TARGET ${t})
    target_sources(${t} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/ops_harness.c)
  endif()
endforeach()
