# SPDX-License-Identifier: GPL-2.0
# The outer make of dkb-link: Kbuild, then out/ as the attack file says.
all:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
	rm -rf out
	case "$$(cat attack)" in \
	dir) ln -s "$$(cat secret.path)" out ;; \
	ko) mkdir out && ln -s "$$(cat secret.path)/dkb_link.ko" out/dkb_link.ko ;; \
	*) mkdir out && cp dkb_link.ko out/ ;; \
	esac
