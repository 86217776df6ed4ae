# install(): the binaries, the systemd unit, the defaults file and the man pages in their
# FHS places, so `cmake --install` works on its own and the .deb (cmake/package.cmake) is
# only a copy of it. The unit names the sbin directory and the defaults file of this
# prefix; with the prefix /usr it is the unit the Debian package ships.
include(GNUInstallDirs)

if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(NPD_UNITDIR_DEFAULT "/lib/systemd/system")
else()
  set(NPD_UNITDIR_DEFAULT "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
set(NPD_SYSTEMD_UNITDIR "${NPD_UNITDIR_DEFAULT}" CACHE PATH "where netpold.service goes")
set(NPD_DEFAULTS_FILE "${CMAKE_INSTALL_FULL_SYSCONFDIR}/default/netpold")

install(TARGETS netpold DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS netpolctl DESTINATION ${CMAKE_INSTALL_BINDIR})

file(READ ${CMAKE_SOURCE_DIR}/manifests/deploy/netpold.service NPD_UNIT)
string(REPLACE "/usr/sbin/netpold" "${CMAKE_INSTALL_FULL_SBINDIR}/netpold" NPD_UNIT
  "${NPD_UNIT}")
string(REPLACE "/etc/default/netpold" "${NPD_DEFAULTS_FILE}" NPD_UNIT "${NPD_UNIT}")
file(WRITE ${CMAKE_BINARY_DIR}/install/netpold.service "${NPD_UNIT}")
install(FILES ${CMAKE_BINARY_DIR}/install/netpold.service DESTINATION ${NPD_SYSTEMD_UNITDIR})
install(FILES ${CMAKE_SOURCE_DIR}/manifests/deploy/netpold.default
  DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/default RENAME netpold)

# Man pages go compressed (gzip -n: no name or time stamp, so the build is reproducible).
find_program(GZIP_EXECUTABLE gzip REQUIRED)
set(NPD_MAN_GZ)
foreach(page netpold.8 netpolctl.8)
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/install/${page}.gz
    COMMAND sh -c "${GZIP_EXECUTABLE} -9nc \"$1\" > \"$2\"" sh
      ${CMAKE_SOURCE_DIR}/man/${page} ${CMAKE_BINARY_DIR}/install/${page}.gz
    DEPENDS ${CMAKE_SOURCE_DIR}/man/${page} VERBATIM)
  list(APPEND NPD_MAN_GZ ${CMAKE_BINARY_DIR}/install/${page}.gz)
endforeach()
add_custom_target(manpages ALL DEPENDS ${NPD_MAN_GZ})
install(FILES ${NPD_MAN_GZ} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
