# The Debian package (CPack DEB): what install() puts under the prefix /usr, plus the
# Debian metadata lintian wants (copyright, changelog, conffiles). Runtime dependencies
# come from the shared libraries the binaries link (dpkg-shlibdeps), and iptables and
# ipset for the tools the nft backend and users run. scripts/package drives it.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME netpold)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "netpold maintainers <maintainers@users.noreply.h-seed-97424843.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Kubernetes NetworkPolicy agent for iptables and ipset")
set(CPACK_PACKAGE_DESCRIPTION "netpold enforces Kubernetes networking.k8s.io/v1 NetworkPolicy
on a node with iptables and ipset, beside a CNI plugin that does not enforce
policy itself (flannel, host-gw, bridge). It watches the API server (or reads
YAML files), compiles the policies for the pods of its node, applies the
smallest change atomically under the xtables lock, logs denied flows and
exports per-policy counters to Prometheus. netpolctl simulates, lints and
renders policies offline.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "iptables, ipset")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_SET_DESTDIR OFF)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_SOURCE_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Debian's per-package documents: the changelog compressed without a time stamp.
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/install/changelog.gz
  COMMAND sh -c "${GZIP_EXECUTABLE} -9nc \"$1\" > \"$2\"" sh
    ${CMAKE_SOURCE_DIR}/packaging/changelog ${CMAKE_BINARY_DIR}/install/changelog.gz
  DEPENDS ${CMAKE_SOURCE_DIR}/packaging/changelog VERBATIM)
add_custom_target(debian-changelog ALL DEPENDS ${CMAKE_BINARY_DIR}/install/changelog.gz)
install(FILES ${CMAKE_BINARY_DIR}/install/changelog.gz ${CMAKE_SOURCE_DIR}/packaging/copyright
  DESTINATION ${CMAKE_INSTALL_DOCDIR})
include(CPack)
