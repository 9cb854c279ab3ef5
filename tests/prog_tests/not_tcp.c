// SPDX-License-Identifier: GPL-2.0
/* Frames that are IP but not TCP: counted as not_tcp, never a flow. */
#include "test_progs.h"

/* UDP and ICMP to and from the monitored port's host: not TCP. */
void test_not_tcp(void)
{
	const __u64 want[NP_STAT_MAX] = {
		[NP_STAT_PACKETS] = 4,
		[NP_STAT_NOT_TCP] = 4,
		[NP_STAT_IPV6] = 1,
	};
	struct frame f;
	struct tprog t;

	if (!tp_load(&t, NULL))
		goto out;

	frame_init(&f);
	frame_eth(&f, MAC_VMK0, MAC_GW);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_RUBRIK, .daddr = IP_ESX });
	frame_udp(&f, CLIENT_PORT, NBD_PORT);	/* NFC heartbeats use UDP 902 */
	frame_payload(&f, 32);
	frame_end(&f);
	if (!tp_run(&t, &f, 0))
		goto out;

	frame_init(&f);
	frame_eth(&f, MAC_VMK0, MAC_GW);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_RUBRIK, .daddr = IP_ESX });
	frame_icmp(&f, 8, 0, 1, 1);
	frame_payload(&f, 56);
	frame_end(&f);
	if (!tp_run(&t, &f, 0))
		goto out;

	/* ICMP's payload quotes a TCP header to port 902: still ICMP */
	frame_init(&f);
	frame_eth(&f, MAC_GW, MAC_VMK0);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_ESX, .daddr = IP_RUBRIK });
	frame_icmp(&f, 3, 3, 0, 0);
	frame_ipv4(&f, &(struct frame_ip4){ .saddr = IP_RUBRIK, .daddr = IP_ESX,
					     .proto = FRAME_IPPROTO_TCP });
	frame_tcp(&f, &(struct frame_tcp){ .sport = CLIENT_PORT,
					   .dport = NBD_PORT });
	frame_end(&f);
	if (!tp_run(&t, &f, 0))
		goto out;

	frame_init(&f);
	frame_eth(&f, MAC_VMK0, MAC_GW);
	frame_ipv6(&f, &(struct frame_ip6){ .saddr = IP6_RUBRIK,
					    .daddr = IP6_ESX });
	frame_udp(&f, CLIENT_PORT, NBD_PORT);
	frame_end(&f);
	if (!tp_run(&t, &f, 0))
		goto out;

	if (tp_stats(&t, want))
		tp_read_n(&t, 0);
out:
	tp_close(&t);
}
