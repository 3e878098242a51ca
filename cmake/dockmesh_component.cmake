# dockmesh_component(): one component's build, written once. Each folder (agent, broker, cli,
# ui-bridge) is a static library of everything but main.cpp, a thin executable made of main.cpp,
# and a doctest binary of test_main.cpp plus every *_test.cpp of the folder, registered with
# CTest (STYLE.md: tests link the library, not main.cpp).
#
#   dockmesh_component(<library> EXECUTABLE <binary> TESTS <test binary>
#                      SOURCES <file>...           # the library's sources
#                      LINK <target>...            # what the library links (PUBLIC)
#                      [DEFINITIONS <def>...]      # the library's compile definitions (PRIVATE)
#                      [TEST_DEFINITIONS <def>...]) # the test binary's compile definitions
function(dockmesh_component library)
  cmake_parse_arguments(C "" "EXECUTABLE;TESTS" "SOURCES;LINK;DEFINITIONS;TEST_DEFINITIONS" ${ARGN})
  if(NOT C_EXECUTABLE OR NOT C_TESTS OR NOT C_SOURCES)
    message(FATAL_ERROR "dockmesh_component(${library}): EXECUTABLE, TESTS and SOURCES are required")
  endif()
  add_library(${library} STATIC ${C_SOURCES})
  target_include_directories(${library} PUBLIC ${CMAKE_SOURCE_DIR})
  target_link_libraries(${library} PUBLIC ${C_LINK})
  if(C_DEFINITIONS)
    target_compile_definitions(${library} PRIVATE ${C_DEFINITIONS})
  endif()

  add_executable(${C_EXECUTABLE} main.cpp)
  target_link_libraries(${C_EXECUTABLE} PRIVATE ${library})

  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cpp)
  add_executable(${C_TESTS} test_main.cpp ${tests})
  target_link_libraries(${C_TESTS} PRIVATE ${library} doctest::doctest)
  if(C_TEST_DEFINITIONS)
    target_compile_definitions(${C_TESTS} PRIVATE ${C_TEST_DEFINITIONS})
  endif()
  add_test(NAME ${C_TESTS} COMMAND ${C_TESTS})
endfunction()
