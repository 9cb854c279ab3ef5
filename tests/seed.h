/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The seed scenario's addresses, the one place they are written: an NBD
 * connection from the data mover (the backup appliance) to the ESXi
 * host's management address on vmk0, whose replies leave by vmk4
 * straight onto the backup subnet (the lab `make demo` builds).
 *
 * The datapath tests, mkpcap and the bench include this file; the shell
 * suites and scripts/lab.sh read it through tests/seed.sh, which takes
 * every "#define NAME VALUE" line below: strings and numbers as they
 * are, and NAME_BYTES (the bytes of a MAC) as NAME, "xx:xx:xx:xx:xx:xx".
 * So keep to one define a line, and to those three kinds of value.
 */
#ifndef NBDPATH_TEST_SEED_H
#define NBDPATH_TEST_SEED_H

/* the ESXi host: vmk0 on the management subnet (VLAN 10), vmk4 on the
 * backup subnet (VLAN 28)
 */
#define VMK0_NAME		"vmk0"
#define VMK4_NAME		"vmk4"
#define IP_ESX			"10.0.0.10"	/* vmk0: the host's FQDN resolves here */
#define IP_ESX_VMK4		"10.0.28.10"
#define MAC_VMK0_BYTES		0x00, 0x25, 0xb5, 0x00, 0x00, 0x0a
#define MAC_VMK4_BYTES		0x00, 0x50, 0x56, 0x6b, 0x28, 0x04
#define IP6_ESX			"fd00::10"
#define IP6_ESX_VMK4		"fd00:28::10"
#define IP6_VMK4_LL		"fe80::250:56ff:fe6b:2804"	/* EUI-64 of vmk4's MAC */
#define VLAN_MGMT		10
#define VLAN_BACKUP		28

/* a second host, vmk0 only: the symmetric control */
#define IP_ESX2			"10.0.0.20"
#define MAC_ESX2_VMK0_BYTES	0x00, 0x25, 0xb5, 0x00, 0x00, 0x0b
#define MAC_ESX2_VMK4_BYTES	0x00, 0x50, 0x56, 0x6b, 0x28, 0x05
#define IP6_ESX2		"fd00::11"

/* the data movers, on the backup subnet */
#define IP_RUBRIK		"10.0.28.50"
#define IP_RUBRIK2		"10.0.28.51"
#define MAC_RUBRIK_BYTES	0x00, 0x0c, 0x29, 0x28, 0x00, 0x50
#define MAC_RUBRIK2_BYTES	0x00, 0x0c, 0x29, 0x28, 0x00, 0x51
#define IP6_RUBRIK		"fd00:28::50"
#define IP6_RUBRIK2		"fd00:28::51"

/* the router between the subnets: the data mover reaches vmk0 through it */
#define IP_GW			"10.0.0.1"
#define MAC_GW_BYTES		0x00, 0x00, 0x5e, 0x00, 0x01, 0x01	/* in front of vmk0 */
#define IP_GW28			"10.0.28.1"
#define MAC_GW28_BYTES		0x00, 0x00, 0x5e, 0x00, 0x01, 0x1c
#define IP6_GW			"fd00::1"
#define IP6_GW28		"fd00:28::1"
/* the subnets' IPv6 prefixes (/64) of the addresses above */
#define IP6_NET_MGMT		"fd00::"
#define IP6_NET_BACKUP		"fd00:28::"

/* the remote mirror: the vDS sends ERSPAN to this sensor */
#define IP_MIRROR_SRC		"192.168.99.1"
#define IP_MIRROR_DST		"192.168.99.2"
#define IP6_MIRROR_SRC		"fd99::1"
#define IP6_MIRROR_DST		"fd99::2"
#define MAC_MIRROR_SRC_BYTES	0x00, 0x50, 0x56, 0x99, 0x00, 0x01
#define MAC_MIRROR_DST_BYTES	0x02, 0x00, 0x00, 0x99, 0x00, 0x02

/* the NBD connection */
#define NBD_PORT		902
#define CLIENT_PORT		50512

/* capture time of the seed's captures and test clock, in unix seconds */
#define SEED_UNIX0		1763900000

#endif /* NBDPATH_TEST_SEED_H */
