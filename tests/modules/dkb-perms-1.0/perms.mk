# SPDX-License-Identifier: GPL-2.0
# The outer make of dkb-perms: Kbuild, then a hostile mode on the result.
all:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
	chmod 4777 dkb_perms.ko
