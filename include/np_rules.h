/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rules the XDP program and the loader must apply alike: when a flow is
 * over and how it ended, and when its slot may be reused. The program
 * reclaims slots by them; the loader decides by the same test whether a
 * flow is still listed and which state a finished flow's record carries
 * (nbdpath(8), FLOWS).
 *
 * Plain C on fixed-width types: included by bpf/ and user/ alike.
 */
#ifndef NBDPATH_RULES_H
#define NBDPATH_RULES_H

#include <linux/types.h>

/* Bits of np_dir.tcp_flags: the TCP header's flags byte, bit for bit. */
#define NP_TCPF_FIN		0x01
#define NP_TCPF_SYN		0x02
#define NP_TCPF_RST		0x04
#define NP_TCPF_PSH		0x08
#define NP_TCPF_ACK		0x10
#define NP_TCPF_URG		0x20
#define NP_TCPF_ECE		0x40
#define NP_TCPF_CWR		0x80

/*
 * A closed connection's slot lingers this long after its last packet,
 * so that the FIN's last ACK and retransmitted FINs still find the flow
 * rather than open a new one.
 */
#define NP_DEFAULT_CLOSED_SEC	5

#define NP_NSEC_PER_SEC		1000000000ull

/* How a flow ended: np_flow_end() of its two directions' flags. */
enum np_flow_end {
	NP_END_NONE,		/* still open */
	NP_END_CLOSED,		/* FIN seen both ways */
	NP_END_RESET,		/* RST seen */
};

static inline enum np_flow_end np_flow_end(__u8 to_server, __u8 from_server)
{
	if ((to_server | from_server) & NP_TCPF_RST)
		return NP_END_RESET;
	if ((to_server & NP_TCPF_FIN) && (from_server & NP_TCPF_FIN))
		return NP_END_CLOSED;
	return NP_END_NONE;
}

/*
 * A slot may be reused (and a flow leaves the active list) once its last
 * packet is idle_ns old, or closed_ns old if the connection ended. A
 * clock behind the flow's last packet reclaims nothing.
 */
static inline int np_flow_expired(__u8 to_server, __u8 from_server,
				  __u64 last, __u64 now, __u64 idle_ns,
				  __u64 closed_ns)
{
	if (now < last)
		return 0;
	if (now - last >= idle_ns)
		return 1;
	return np_flow_end(to_server, from_server) != NP_END_NONE &&
	       now - last >= closed_ns;
}

/*
 * A flow's handshake as the mirror saw it (nbdpath(8), TCP HEALTH), from
 * the first SYN's and SYN-ACK's times and the client's first ACK (0: not
 * seen). The ACK counts once a SYN-ACK was seen: the two legs may reach
 * the mirror by different paths, the ACK a little before its SYN-ACK.
 */
enum np_hs_state {
	NP_HS_ESTABLISHED,		/* SYN, SYN-ACK and the client's ACK */
	NP_HS_NO_SYNACK,		/* SYN seen, no SYN-ACK */
	NP_HS_NO_ACK,			/* SYN-ACK seen, never acknowledged */
	NP_HS_UNSEEN,			/* began before the sensor saw it */
	NP_HS_MAX,
};

static inline enum np_hs_state np_hs_state(__u64 syn, __u64 synack, __u64 ack)
{
	if (!syn && !synack)
		return NP_HS_UNSEEN;
	if (!synack)
		return NP_HS_NO_SYNACK;
	return ack ? NP_HS_ESTABLISHED : NP_HS_NO_ACK;
}

#endif /* NBDPATH_RULES_H */
