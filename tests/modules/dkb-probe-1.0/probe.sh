#!/bin/bash
# Try what a contained build step must not be able to do, and the few
# things it must; print "probe $1 WHAT ok|denied" for each.
where=$1
port=$(cat probe-port 2>/dev/null || echo 9)
try() {
	if "$@" >/dev/null 2>&1; then echo ok; else echo denied; fi
}
echo "probe $where uid $(id -u)"
echo "probe $where net $(try timeout 5 bash -c "echo probe >/dev/tcp/127.0.0.1/$port")"
echo "probe $where usr-src $(try touch /usr/src/dkb-probe-escape)"
echo "probe $where dkms-tree $(try touch /var/lib/dkms/dkb-probe-escape)"
echo "probe $where lib-modules $(try touch /lib/modules/dkb-probe-escape)"
echo "probe $where etc $(try touch /etc/dkb-probe-escape)"
echo "probe $where build-dir $(try touch ./dkb-probe-inside)"
echo "probe $where tmp $(try touch /tmp/dkb-probe-private)"
exit 0
