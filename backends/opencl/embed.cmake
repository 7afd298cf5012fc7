# Run with cmake -P: writes OUTPUT, a C file defining `const char ocl_src_<name>[]` (NUL
# terminated) for every kernel source in SOURCES (a ;-list of .cl paths).
set(out "/* Generated from the shaders/opencl kernel sources by backends/opencl/embed.cmake. Do not edit. */\n")
foreach(src ${SOURCES})
  get_filename_component(name ${src} NAME_WE)
  file(READ ${src} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "((0x..,){24})" "\\1\n" bytes "${bytes}")
  string(APPEND out "const char ocl_src_${name}[] = {\n${bytes}0x00};\n")
endforeach()
file(WRITE ${OUTPUT} "${out}")
