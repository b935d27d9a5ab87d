/* addr.c - which resolved addresses a participant's URL may reach. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "feeds.h"

struct range4 {
	uint32_t net;
	int bits;
	const char *what;
};

/* IANA's IPv4 special-purpose registry, less what is globally reachable
 * and useful for a blog (nothing is). */
static const struct range4 special4[] = {
	{ 0x00000000, 8, "a \"this network\" address" },
	{ 0x0a000000, 8, "a private address" },
	{ 0x64400000, 10, "a carrier-grade NAT address" },
	{ 0x7f000000, 8, "a loopback address" },
	{ 0xa9fe0000, 16, "a link-local address" },
	{ 0xac100000, 12, "a private address" },
	{ 0xc0000000, 24, "an IETF protocol address" },
	{ 0xc0000200, 24, "a documentation address" },
	{ 0xc0586300, 24, "a 6to4 relay address" },
	{ 0xc0a80000, 16, "a private address" },
	{ 0xc6120000, 15, "a benchmarking address" },
	{ 0xc6336400, 24, "a documentation address" },
	{ 0xcb007100, 24, "a documentation address" },
	{ 0xe0000000, 4, "a multicast address" },
	{ 0xf0000000, 4, "a reserved address" },
};

static const char *
special_v4(uint32_t a)
{
	for (size_t i = 0; i < sizeof(special4) / sizeof(special4[0]); i++) {
		uint32_t mask = 0xffffffffu << (32 - special4[i].bits);

		if ((a & mask) == special4[i].net)
			return special4[i].what;
	}
	return NULL;
}

static int
prefix6(const unsigned char *a, const unsigned char *net, int bits)
{
	int bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, net, (size_t)bytes) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[bytes] ^ net[bytes]) & (0xff << (8 - rest))) == 0;
}

static const char *
special_v6(const unsigned char *a)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b };
	static const unsigned char zero[16];
	static const struct {
		unsigned char net[16];
		int bits;
		const char *what;
	} special[] = {
		{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, "a documentation address" },
		{ { 0x20, 0x01 }, 23, "an IETF protocol address (Teredo, ORCHID...)" },
		{ { 0x20, 0x02 }, 16, "a 6to4 address" },
		{ { 0x3f, 0xff }, 20, "a documentation address" },
		{ { 0xfc }, 7, "a unique local (private) address" },
		{ { 0xfe, 0x80 }, 10, "a link-local address" },
		{ { 0xfe, 0xc0 }, 10, "a site-local address" },
		{ { 0xff }, 8, "a multicast address" },
	};

	if (memcmp(a, zero, 16) == 0)
		return "the unspecified address";
	if (memcmp(a, zero, 15) == 0 && a[15] == 1)
		return "a loopback address";
	if (memcmp(a, mapped, 12) == 0)
		return "an IPv4-mapped IPv6 address";
	/* NAT64 reaches the IPv4 address inside it: judge that one. */
	if (memcmp(a, nat64, 12) == 0) {
		uint32_t v4 = (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 |
		    (uint32_t)a[14] << 8 | a[15];

		return special_v4(v4);
	}
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (prefix6(a, special[i].net, special[i].bits))
			return special[i].what;
	/* Everything else outside 2000::/3 is reserved or not unicast. */
	if ((a[0] & 0xe0) != 0x20)
		return "a reserved IPv6 address";
	return NULL;
}

int
fetch_addr_public(const struct sockaddr *sa, char *why, size_t n)
{
	char text[INET6_ADDRSTRLEN] = "?";
	const char *what;

	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		inet_ntop(AF_INET, &sin.sin_addr, text, sizeof(text));
		what = special_v4(ntohl(sin.sin_addr.s_addr));
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof(text));
		what = special_v6(sin6.sin6_addr.s6_addr);
	} else {
		what = "not an Internet address";
	}
	if (what == NULL)
		return 0;
	snprintf(why, n, "%s is %s", text, what);
	return -1;
}
