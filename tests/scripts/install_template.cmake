# ctest driver (cmake -P): install this build into a scratch prefix, build the template
# plugin and tests/install_check against that prefix only, install the plugin into the
# prefix's plugin directory and run the check program on device template0.
# Inputs: BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR C_COMPILER [SANITIZE]
cmake_minimum_required(VERSION 3.20)
foreach(v BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR C_COMPILER)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "install_template.cmake: ${v} is not set")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

set(flags "")
if(SANITIZE)
  set(flags "-fsanitize=${SANITIZE} -fno-omit-frame-pointer")
endif()

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

step("install qgraph into ${prefix}" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# A project that finds qgraph only through CMAKE_PREFIX_PATH=<prefix>.
function(build_against_prefix name src)
  step("configure ${name}" ${CMAKE_COMMAND} -S ${src} -B ${WORK_DIR}/${name} -G ${GENERATOR}
       -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_PREFIX_PATH=${prefix}
       -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_C_FLAGS=${flags}
       -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  step("build ${name}" ${CMAKE_COMMAND} --build ${WORK_DIR}/${name})
endfunction()

build_against_prefix(template ${SOURCE_DIR}/plugins/template)
step("install the template plugin" ${CMAKE_COMMAND} --install ${WORK_DIR}/template)
file(GLOB_RECURSE installed LIST_DIRECTORIES false ${prefix}/libqg-template.so)
if(NOT installed)
  message(FATAL_ERROR "libqg-template.so was not installed under ${prefix}")
endif()
list(GET installed 0 plugin)
get_filename_component(plugin_dir ${plugin} DIRECTORY)
message(STATUS "template installed as ${plugin}")

build_against_prefix(install_check ${SOURCE_DIR}/tests/install_check)
# Only the installed plugin directory is searched: the check must not pass by finding
# plugins of the build tree.
step("run install_check" ${CMAKE_COMMAND} -E env QG_PLUGIN_PATH=${plugin_dir} QG_PLUGIN_PATH_ONLY=1
     ${WORK_DIR}/install_check/install_check)
message(STATUS "${step_output}")

# The MLP example builds from the installed package too, and runs on the installed CPU
# plugin found through the install layout alone.
build_against_prefix(simple_graph ${SOURCE_DIR}/examples/simple-graph)
step("run simple-graph from the prefix" ${CMAKE_COMMAND} -E env QG_PLUGIN_PATH=${plugin_dir} QG_PLUGIN_PATH_ONLY=1
     ${WORK_DIR}/simple_graph/simple-graph cpu)
message(STATUS "${step_output}")

# And through pkg-config, the way a Makefile project would use it.
find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  file(GLOB_RECURSE pcfile LIST_DIRECTORIES false ${prefix}/qgraph.pc)
  get_filename_component(pcdir ${pcfile} DIRECTORY)
  step("pkg-config flags" ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${pcdir} ${PKG_CONFIG} --cflags --libs qgraph)
  string(STRIP "${step_output}" pcflags)
  separate_arguments(pcflags UNIX_COMMAND "${pcflags}")
  get_filename_component(libdir ${pcdir} DIRECTORY)
  separate_arguments(sanflags UNIX_COMMAND "${flags}")
  step("compile simple-graph with pkg-config" ${C_COMPILER} -std=c11 ${SOURCE_DIR}/examples/simple-graph/main.c
       -o ${WORK_DIR}/simple-graph-pc ${pcflags} -lm -Wl,-rpath,${libdir} ${sanflags})
  step("run the pkg-config build" ${CMAKE_COMMAND} -E env QG_PLUGIN_PATH=${plugin_dir} QG_PLUGIN_PATH_ONLY=1
       ${WORK_DIR}/simple-graph-pc cpu)
endif()
