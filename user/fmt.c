// SPDX-License-Identifier: GPL-2.0
/* Names and text forms shared by every writer (see fmt.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"

const char *const np_tcp_flag_names[8] = {
	"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR",
};

_Static_assert(NP_TCPF_FIN == 1 << 0 && NP_TCPF_RST == 1 << 2 &&
	       NP_TCPF_CWR == 1 << 7, "np_tcp_flag_names is by bit");

static const char *const verdict_names[NP_V_MAX] = {
	[NP_V_NONE]		= "none",
	[NP_V_ASYMMETRIC]	= "asymmetric",
	[NP_V_SYMMETRIC]	= "symmetric",
	[NP_V_TO_SERVER_ONLY]	= "to_server_only",
	[NP_V_FROM_SERVER_ONLY]	= "from_server_only",
	[NP_V_IDLE]		= "idle",
};

const char *np_verdict_name(enum np_verdict v)
{
	if ((unsigned int)v >= NP_V_MAX)
		return "none";
	return verdict_names[v];
}

void np_fmt_mac(char buf[18], const __u8 mac[6])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static bool mapped(const __u8 b[16])
{
	static const __u8 prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(b, prefix, sizeof(prefix));
}

void np_ip_set(struct np_ip *ip, const __u8 b[16], bool v6)
{
	memcpy(ip->b, b, 16);
	/* an IPv4 key's addresses are all mapped: one that is not is
	 * IPv6 whatever the family says, and is printed so
	 */
	ip->v6 = v6 || !mapped(b);
}

int np_ip_cmp(const struct np_ip *a, const struct np_ip *b)
{
	return memcmp(a, b, sizeof(*a));
}

bool np_ip_is_v4(const struct np_ip *ip)
{
	return !ip->v6;
}

void np_fmt_ip(char buf[46], const struct np_ip *ip)
{
	/* inet_ntop() writes IPv6 as RFC 5952 wants (lower case, the
	 * longest zero run compressed, ::ffff:a.b.c.d for a mapped one);
	 * an IPv4 key's mapped address is plain IPv4
	 */
	if (!ip->v6) {
		if (!inet_ntop(AF_INET, ip->b + 12, buf, 46))
			snprintf(buf, 46, "?");
	} else if (!inet_ntop(AF_INET6, ip->b, buf, 46)) {
		snprintf(buf, 46, "?");
	}
}
