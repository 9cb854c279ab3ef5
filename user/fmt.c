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

bool np_ip_is_v4(const __u8 ip[16])
{
	static const __u8 prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(ip, prefix, sizeof(prefix));
}

void np_fmt_ip(char buf[46], const __u8 ip[16])
{
	/* inet_ntop() writes IPv6 as RFC 5952 wants (lower case, the
	 * longest zero run compressed); a v4-mapped key is plain IPv4
	 */
	if (np_ip_is_v4(ip)) {
		if (!inet_ntop(AF_INET, ip + 12, buf, 46))
			snprintf(buf, 46, "?");
	} else if (!inet_ntop(AF_INET6, ip, buf, 46)) {
		snprintf(buf, 46, "?");
	}
}
