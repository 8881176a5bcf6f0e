# attnlab_library(NAME DIR DEPS...): one static library per top-level folder, from every .cpp in it.
# CONFIGURE_DEPENDS re-globs on build, so adding a file needs no CMake edit.
function(attnlab_library name dir)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${dir}/*.cpp)
  list(FILTER sources EXCLUDE REGEX "/(main|gbench_[a-z_0-9]*)\\.cpp$")
  list(FILTER sources EXCLUDE REGEX "/plots/")
  if(sources)
    add_library(${name} STATIC ${sources})
    target_link_libraries(${name} PUBLIC attnlab_options ${ARGN})
  else()
    add_library(${name} INTERFACE)
    target_link_libraries(${name} INTERFACE attnlab_options ${ARGN})
  endif()
endfunction()
