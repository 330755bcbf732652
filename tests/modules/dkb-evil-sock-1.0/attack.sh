#!/bin/bash
# MAKE: connect to the host's Unix sockets (the test's listener, whose
# path is in sock-path, /dev/log, the D-Bus system bus), then the build.
/usr/bin/python3 connect.py "$(cat sock-path)" /dev/log \
	/run/dbus/system_bus_socket /var/run/dbus/system_bus_socket
exec make -C "/lib/modules/$1/build" M="$PWD" modules
