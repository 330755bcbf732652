# SPDX-License-Identifier: GPL-2.0
"""Connect to each Unix socket path given; print what happened."""
import socket
import sys

for path in sys.argv[1:]:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_UNIX, kind)
        try:
            s.connect(path)
            print(f"sock {path}: connected")
            break
        except OSError as e:
            if e.errno == 91:  # EPROTOTYPE: it is there, the other kind
                continue
            print(f"sock {path}: {e.strerror}")
            break
        finally:
            s.close()
