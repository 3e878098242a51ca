# CPack settings for the four Debian packages (included from packaging/CMakeLists.txt).
# Maintainer scripts live in packaging/debian/<package>/; /etc files are conffiles.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME dockmesh)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "dockmesh developers <dockmesh@example.org>")
set(CPACK_PACKAGE_VENDOR dockmesh)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL agent broker bridge cli)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Bumped when only the packaging changes (DOCKMESH_DEB_RELEASE=2 ...): upgrade tests use it.
set(DOCKMESH_DEB_RELEASE 1 CACHE STRING "Debian revision of the packages")
set(CPACK_DEBIAN_PACKAGE_RELEASE ${DOCKMESH_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE https://example.org/dockmesh)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)            # Depends from dpkg-shlibdeps
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)            # strip; symbols in <package>-dbgsym
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Each package's conffiles and maintainer scripts are files in debian/<package>/.
set(DOCKMESH_DEBIAN_DIR ${CMAKE_CURRENT_SOURCE_DIR}/debian)

# dockmesh_deb(COMPONENT PACKAGE DEPENDS SUMMARY DESCRIPTION...): description lines stay under 80
# columns (lintian).
macro(dockmesh_deb component package depends summary)
  string(TOUPPER ${component} _C)
  set(CPACK_DEBIAN_${_C}_PACKAGE_NAME ${package})
  set(CPACK_DEBIAN_${_C}_PACKAGE_DEPENDS "${depends}")
  string(JOIN "" _long ${ARGN})
  set(CPACK_DEBIAN_${_C}_DESCRIPTION "${summary}\n${_long}")
  set(_extra)
  foreach(script conffiles preinst postinst prerm postrm)
    if(EXISTS ${DOCKMESH_DEBIAN_DIR}/${package}/${script})
      list(APPEND _extra ${DOCKMESH_DEBIAN_DIR}/${package}/${script})
    endif()
  endforeach()
  set(CPACK_DEBIAN_${_C}_PACKAGE_CONTROL_EXTRA "${_extra}")
endmacro()

dockmesh_deb(agent dockmesh-agent "adduser, dockmesh-cli (= ${PROJECT_VERSION}-${DOCKMESH_DEB_RELEASE})"
  "dockmesh agent: runs beside each Docker daemon"
  "The agent of a dockmesh mesh executes container actions on its host's\n"
  "dockerd, announces the host to the brokers and forwards Docker events,\n"
  "over a ZeroMQ bus secured with CURVE.")
set(CPACK_DEBIAN_AGENT_PACKAGE_RECOMMENDS "docker.io | docker-ce")
dockmesh_deb(broker dockmesh-broker "adduser, dockmesh-cli (= ${PROJECT_VERSION}-${DOCKMESH_DEB_RELEASE})"
  "dockmesh broker: bus hub, host directory and scheduler"
  "The broker of a dockmesh mesh authenticates every key (CURVE, ZAP),\n"
  "enforces topic ACLs, keeps the directory of hosts and containers in\n"
  "RocksDB (etcd with several brokers) and places scheduled containers.")
dockmesh_deb(bridge dockmesh-bridge "adduser, dockmesh-cli (= ${PROJECT_VERSION}-${DOCKMESH_DEB_RELEASE})"
  "dockmesh bridge: HTTP/WebSocket API and web UI"
  "The bridge serves a dockmesh mesh's web UI and its HTTP and WebSocket API,\n"
  "with users, API tokens and ownership checks, and turns requests into bus\n"
  "messages.")
dockmesh_deb(cli dockmesh-cli ""
  "dockmesh admin command line (dockmeshctl)"
  "dockmeshctl makes CURVE keys, manages the keys a broker accepts and its\n"
  "join tokens, lists hosts and containers and sends any bus message, with\n"
  "JSON output for scripts.")

include(CPack)
