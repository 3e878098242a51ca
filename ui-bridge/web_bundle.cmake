# web_bundle.cmake: builds the target dockmesh_web, the console's files in DOCKMESH_WEB_BUILD_DIR:
# ui-bridge/web/ copied as is, and vendor/xterm.js + vendor/xterm.css made from Debian's
# node-xterm (CommonJS files, no browser bundle) by scripts/bundle_cjs.mjs. Node and node-xterm are
# build dependencies (scripts/deps.sh).
find_program(DOCKMESH_NODE NAMES node nodejs)
set(DOCKMESH_XTERM_DIR /usr/share/nodejs/xterm CACHE PATH "Debian's node-xterm package")
if(NOT DOCKMESH_NODE OR NOT EXISTS ${DOCKMESH_XTERM_DIR}/lib/xterm.js)
  message(FATAL_ERROR "the web console needs node and node-xterm (${DOCKMESH_XTERM_DIR}): run scripts/deps.sh")
endif()

set(web_src ${CMAKE_CURRENT_SOURCE_DIR}/web)
file(GLOB_RECURSE web_files CONFIGURE_DEPENDS ${web_src}/*)
set(web_stamp ${CMAKE_CURRENT_BINARY_DIR}/web.stamp)
add_custom_command(OUTPUT ${web_stamp}
  COMMAND ${CMAKE_COMMAND} -E copy_directory ${web_src} ${DOCKMESH_WEB_BUILD_DIR}
  COMMAND ${CMAKE_COMMAND} -E touch ${web_stamp}
  DEPENDS ${web_files}
  COMMENT "Copying the web console into ${DOCKMESH_WEB_BUILD_DIR}")

set(xterm_js ${DOCKMESH_WEB_BUILD_DIR}/vendor/xterm.js)
set(xterm_css ${DOCKMESH_WEB_BUILD_DIR}/vendor/xterm.css)
set(bundler ${CMAKE_SOURCE_DIR}/scripts/bundle_cjs.mjs)
set(xterm_notice /usr/share/doc/node-xterm/copyright)
add_custom_command(OUTPUT ${xterm_js} ${xterm_css}
  COMMAND ${DOCKMESH_NODE} ${bundler} --root ${DOCKMESH_XTERM_DIR}/lib --out ${xterm_js}
          --notice ${xterm_notice} Terminal=xterm.js fit=addons/fit/fit.js
  COMMAND ${CMAKE_COMMAND} -E copy ${DOCKMESH_XTERM_DIR}/lib/xterm.css ${xterm_css}
  DEPENDS ${bundler} ${DOCKMESH_XTERM_DIR}/package.json ${DOCKMESH_XTERM_DIR}/lib/xterm.css
  COMMENT "Bundling xterm.js from ${DOCKMESH_XTERM_DIR}")

add_custom_target(dockmesh_web ALL DEPENDS ${web_stamp} ${xterm_js} ${xterm_css})
