# SPDX-License-Identifier: GPL-2.0
# The outer make of dkb-timed (dkms.conf's MAKE): "start"/"end" lines in
# make.log around a 2 s pause and the real Kbuild make.
KDIR ?= /lib/modules/$(KERNELRELEASE)/build

all:
	@./timed.sh start
	@sleep 2
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
	@./timed.sh end
