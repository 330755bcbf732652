// SPDX-License-Identifier: GPL-2.0
/*
 * dkb-dummy: a DKMS test package for dkms-boot.
 *
 * The module is deliberately called "dummy": installed under updates/dkms
 * it shadows the in-tree drivers/net/dummy.ko, the way an out-of-tree NIC
 * driver (i40evf, r8168, ...) overrides the kernel's own driver.  It
 * registers "dkbdummy%d" net devices that drop every packet, so a test can
 * tell from the interface name which of the two modules was loaded.
 */
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>

#define DKB_MAX_DEVS 4

static int numdevs = 1;
module_param(numdevs, int, 0444);
MODULE_PARM_DESC(numdevs, "Number of dkbdummy devices (1-4)");

static struct net_device *dkb_devs[DKB_MAX_DEVS];

static netdev_tx_t dkb_xmit(struct sk_buff *skb, struct net_device *dev)
{
	dev->stats.tx_dropped++;
	dev_kfree_skb(skb);
	return NETDEV_TX_OK;
}

static const struct net_device_ops dkb_netdev_ops = {
	.ndo_start_xmit		= dkb_xmit,
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
};

static void dkb_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &dkb_netdev_ops;
	dev->flags |= IFF_NOARP;
	dev->flags &= ~IFF_MULTICAST;
	eth_hw_addr_random(dev);
}

static void dkb_destroy(void)
{
	int i;

	for (i = 0; i < DKB_MAX_DEVS; i++) {
		if (!dkb_devs[i])
			continue;
		unregister_netdev(dkb_devs[i]);
		free_netdev(dkb_devs[i]);
		dkb_devs[i] = NULL;
	}
}

static int __init dkb_init(void)
{
	int i, err;

	if (numdevs < 1 || numdevs > DKB_MAX_DEVS)
		return -EINVAL;

	for (i = 0; i < numdevs; i++) {
		dkb_devs[i] = alloc_netdev(0, "dkbdummy%d", NET_NAME_ENUM,
					   dkb_setup);
		if (!dkb_devs[i]) {
			err = -ENOMEM;
			goto fail;
		}
		err = register_netdev(dkb_devs[i]);
		if (err) {
			free_netdev(dkb_devs[i]);
			dkb_devs[i] = NULL;
			goto fail;
		}
	}
	return 0;

fail:
	dkb_destroy();
	return err;
}

static void __exit dkb_exit(void)
{
	dkb_destroy();
}

module_init(dkb_init);
module_exit(dkb_exit);

MODULE_DESCRIPTION("dkms-boot test stand-in for the dummy net driver");
MODULE_AUTHOR("dkms-boot tests");
MODULE_VERSION("2.0-dkb");
MODULE_LICENSE("GPL");
