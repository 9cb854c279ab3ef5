/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --ipfix HOST:PORT: flow records to an IPFIX collector (RFC 7011) over
 * UDP. One record per flow, direction and server-side MAC, with delta
 * counts since that record's last export. The element list, the
 * enterprise elements and the template refresh are in user/nbdpath.8,
 * section IPFIX.
 *
 * Never blocks (but in np_ipfix_drain and np_ipfix_close, and with the
 * wait of np_ipfix_set_rate): the socket is non-blocking, a message the
 * kernel does not take (EAGAIN, or ECONNREFUSED from a collector that is
 * down) is counted as lost and never retried.
 *
 * Messages leave at a bounded rate: a collector reads a UDP socket whose
 * buffer holds about a hundred messages (212992 bytes by default), and a
 * burst beyond it (every flow of a replay ending at once) is dropped
 * there, unseen by us. Messages over the rate wait in a queue; the poll
 * loop calls np_ipfix_flush when np_ipfix_timeout_ms says.
 *
 * Use: open; per poll, np_ipfix_add each record then np_ipfix_flush and
 * np_ipfix_warn_loss; poll() no longer than np_ipfix_timeout_ms; close.
 */
#ifndef NBDPATH_IPFIX_H
#define NBDPATH_IPFIX_H

#include <stdbool.h>
#include <linux/types.h>

/* Messages stay within this size: one Ethernet MTU with room for IPv6+UDP. */
#define NP_IPFIX_MSG_MAX	1400
/* Templates lead the first message, then one every this many seconds... */
#define NP_IPFIX_TMPL_SECS	30
/* ...or this many messages, whichever comes first (a restarted collector
 * learns them within either bound). */
#define NP_IPFIX_TMPL_MSGS	64

/* Messages a second, in bursts of at most NP_IPFIX_BURST (26000 records
 * a second, 23 Mbit/s); np_ipfix_set_rate changes it. */
#define NP_IPFIX_RATE		2000
#define NP_IPFIX_BURST		64
/* Messages waiting for the rate; more are lost (ENOBUFS). 4096 messages
 * are about 53000 records, two seconds at the default rate. */
#define NP_IPFIX_QUEUE		4096

/*
 * The enterprise elements' Private Enterprise Number. nbdpath has none
 * registered: 32473 is the number RFC 5612 reserves for documentation
 * and examples. Collectors that do not know it skip the elements.
 */
#define NP_IPFIX_PEN		32473

/* Enterprise element ids under NP_IPFIX_PEN (user/nbdpath.8, IPFIX). */
enum np_ipfix_ie {
	NP_IPFIX_IE_VERDICT	= 1,	/* unsigned8, enum np_ipfix_verdict */
	NP_IPFIX_IE_VMK		= 2,	/* string, the server-side MAC's vmk */
	NP_IPFIX_IE_HANDSHAKE	= 3,	/* unsigned8, enum np_ipfix_handshake */
	NP_IPFIX_IE_RETRANSMITS	= 4,	/* unsigned64, delta */
	NP_IPFIX_IE_DIRECTION	= 5,	/* unsigned8, 0 to_server, 1 from_server */
	NP_IPFIX_IE_STATE	= 6,	/* unsigned8, enum np_ipfix_state */
};

/* Wire values: fixed here, whatever the report's own enums become. */
enum np_ipfix_verdict {
	NP_IPFIX_V_NONE			= 0,
	NP_IPFIX_V_ASYMMETRIC		= 1,
	NP_IPFIX_V_SYMMETRIC		= 2,
	NP_IPFIX_V_TO_SERVER_ONLY	= 3,
	NP_IPFIX_V_FROM_SERVER_ONLY	= 4,
};

enum np_ipfix_state {
	NP_IPFIX_S_ACTIVE	= 0,
	NP_IPFIX_S_CLOSED	= 1,	/* FIN seen both ways */
	NP_IPFIX_S_RESET	= 2,	/* RST seen */
	NP_IPFIX_S_IDLE		= 3,	/* no packet for --idle-timeout */
};

enum np_ipfix_handshake {
	NP_IPFIX_HS_UNSEEN	= 0,
	NP_IPFIX_HS_ESTABLISHED	= 1,
	NP_IPFIX_HS_NO_SYNACK	= 2,
	NP_IPFIX_HS_NO_ACK	= 3,
};

/* Why this record was exported; encoded as flowEndReason (IE 136). */
enum np_ipfix_end {
	NP_IPFIX_END_ACTIVE	= 0,	/* --active-timeout, the flow goes on */
	NP_IPFIX_END_IDLE,
	NP_IPFIX_END_FIN,
	NP_IPFIX_END_RST,
	NP_IPFIX_END_CAPTURE,	/* end of capture, or nbdpath stopping */
};

#define NP_IPFIX_TO_SERVER	0
#define NP_IPFIX_FROM_SERVER	1

/*
 * One record: a flow's direction as seen through one server-side MAC.
 * Addresses as in include/nbdpath.h (IPv4 as ::ffff:a.b.c.d); both must be
 * of one family. v6 (np_flow_key.v6) sends them as IPv6 elements even
 * when mapped: ::ffff:a.b.c.d of an IPv6 flow is no IPv4 address. The standard MAC elements take the server-side `mac`
 * on the server's side (destination for to_server, source for
 * from_server) and src_mac or dst_mac on the other.
 */
struct np_ipfix_rec {
	__u8	server_ip[16];
	__u8	client_ip[16];
	__u16	server_port;		/* host order */
	__u16	client_port;
	__u8	v6;			/* IPv6 elements, mapped or not */
	__u8	dir;			/* NP_IPFIX_TO_SERVER / _FROM_SERVER */
	__u8	mac[6];			/* the server-side MAC */
	__u8	src_mac[6];
	__u8	dst_mac[6];
	__u64	packets;		/* since this record's last export */
	__u64	bytes;			/* IP bytes, as the report counts them */
	__u64	start_ms;		/* Unix milliseconds */
	__u64	end_ms;
	__u16	vlan;			/* 0: untagged */
	__u32	ingress_ifindex;	/* the mirror NIC */
	const char *ifname;		/* its name, or NULL */
	const char *vmk;		/* the server-side MAC's vmk, or NULL */
	__u8	verdict;		/* enum np_ipfix_verdict, of the flow */
	__u8	state;			/* enum np_ipfix_state */
	__u8	end_reason;		/* enum np_ipfix_end */
	__u8	handshake_state;	/* enum np_ipfix_handshake */
	__u64	retransmits;		/* since this record's last export */
};

struct np_ipfix_stats {
	__u64	records_sent;
	__u64	messages_sent;
	__u64	bytes_sent;		/* IPFIX message bytes (UDP payload) */
	__u64	records_lost;
	__u64	messages_lost;
	__u64	bytes_lost;
	int	first_err;		/* errno of the first loss, 0 if none */
};

struct np_ipfix;

/*
 * Resolve HOST:PORT ([v6]:PORT for an IPv6 literal) and connect a UDP
 * socket to it. -EINVAL after a message for a bad spec (a usage error),
 * another -errno after a message when no socket can be had.
 */
int np_ipfix_open(struct np_ipfix **out, const char *host_port,
		  __u32 observation_domain);

/* Queue a record; sends the message first when it would overflow. 0, or
 * -EINVAL for a record of mixed address families. Losses are no error. */
int np_ipfix_add(struct np_ipfix *x, const struct np_ipfix_rec *r);

/* Close the message being built and send what the rate allows; call once
 * per poll, and when np_ipfix_timeout_ms is due. Returns the messages
 * still queued. */
int np_ipfix_flush(struct np_ipfix *x);

/* Milliseconds until np_ipfix_flush can send more of the queue; -1 when
 * nothing waits (for the poll loop's timeout). */
int np_ipfix_timeout_ms(struct np_ipfix *x);

/* Messages a second (0: no limit). wait: when the queue is full,
 * np_ipfix_add sleeps for the rate instead of dropping: for replay, which
 * has no poll loop to keep and must deliver every record. */
void np_ipfix_set_rate(struct np_ipfix *x, unsigned int msgs_per_sec,
		       bool wait);

/* Send all that is queued at the rate, sleeping, for at most max_ms;
 * what is left then is lost (ETIMEDOUT). At the end of a replay. */
void np_ipfix_drain(struct np_ipfix *x, unsigned int max_ms);

/* Drain (at most NP_IPFIX_QUEUE / rate seconds) and free; safe on NULL. */
void np_ipfix_close(struct np_ipfix *x);

void np_ipfix_stats(const struct np_ipfix *x, struct np_ipfix_stats *s);

/* The first loss, said once on stderr; true if it spoke now. */
bool np_ipfix_warn_loss(struct np_ipfix *x);

#endif /* NBDPATH_IPFIX_H */
