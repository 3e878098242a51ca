# dockmesh_add_dpkg_buildflags(): adds Debian's default compile and link flags, as
# `dpkg-buildflags` gives them with DEB_BUILD_MAINT_OPTIONS=hardening=+all (on bookworm: -g -O2
# -fstack-protector-strong -Wformat -Werror=format-security -D_FORTIFY_SOURCE=2; -Wl,-z,relro
# -Wl,-z,now), to every target. Read once at configure time.
# -ffile-prefix-map is dropped: it names the configuring directory and would only defeat ccache.
function(dockmesh_dpkg_flags kind out)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env DEB_BUILD_MAINT_OPTIONS=hardening=+all
            dpkg-buildflags --get ${kind}
    OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "DOCKMESH_DPKG_BUILDFLAGS: `dpkg-buildflags --get ${kind}` failed (install dpkg-dev)")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  list(FILTER flags EXCLUDE REGEX "^-ffile-prefix-map=")
  set(${out} ${flags} PARENT_SCOPE)
endfunction()

function(dockmesh_add_dpkg_buildflags)
  dockmesh_dpkg_flags(CXXFLAGS cxx)
  dockmesh_dpkg_flags(CPPFLAGS cpp)
  dockmesh_dpkg_flags(LDFLAGS ld)
  add_compile_options(${cxx} ${cpp})
  add_link_options(${ld})
  message(STATUS "dpkg-buildflags: ${cxx} ${cpp}; link: ${ld}")
endfunction()
