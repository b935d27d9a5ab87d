/* date.c - the dates of feed entries: RFC 822 (RSS pubDate) and RFC 3339
 * (Atom, dc:date).  curl_getdate reads RFC 822 and its variants; the one
 * form nearly every feed writes is read here first, because curl's sscanf
 * was a measurable part of reading a feed (bench/feeds), and
 * test_dates_fast_path holds the two to the same answers. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "internal.h"

/* Strips fractional seconds ("10:00:00.000-08:00", as Blogger writes),
 * which time_parse_iso does not take. */
static int64_t
parse_iso(const char *s)
{
	char tmp[64];
	char *dot;
	struct err e;
	int64_t t;

	if (snprintf(tmp, sizeof(tmp), "%s", s) >= (int)sizeof(tmp))
		return 0;
	if ((dot = strchr(tmp, '.')) != NULL) {
		size_t digits = strspn(dot + 1, "0123456789");

		memmove(dot, dot + 1 + digits, strlen(dot + 1 + digits) + 1);
	}
	return time_parse_iso(tmp, &t, &e) == 0 ? t : 0;
}

/* n digits at s as a number, or -1. */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* The one form nearly every pubDate has, "Fri, 20 Nov 2026 09:30:00
 * +0000" (or GMT), read without curl_getdate's sscanf: 0 when s is not
 * exactly that, with every field in range, for curl to read.  The result
 * is curl's (test_dates_fast_path compares them). */
static int64_t
rfc822_common(const char *s)
{
	static const char days[] = "MonTueWedThuFriSatSun";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	static const int before[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
	const char *p = s, *m;
	int day, mon, year, hh, mm, ss, zone = 0;
	int64_t y, leap;

	if (strlen(s) < 28 || s[3] != ',' || s[4] != ' ')
		return 0;
	for (m = days; *m != '\0' && memcmp(m, s, 3) != 0; m += 3)
		;
	if (*m == '\0')
		return 0;
	p = s + 5;
	if ((day = digits(p, 2)) >= 0)
		p += 2;
	else if ((day = digits(p, 1)) >= 0)
		p += 1;
	if (day < 1 || day > 31 || *p++ != ' ')
		return 0;
	for (m = months; *m != '\0' && memcmp(m, p, 3) != 0; m += 3)
		;
	if (*m == '\0' || p[3] != ' ')
		return 0;
	mon = (int)(m - months) / 3;
	p += 4;
	if ((year = digits(p, 4)) < 1971 || p[4] != ' ' || (hh = digits(p + 5, 2)) < 0 ||
	    hh > 23 || p[7] != ':' || (mm = digits(p + 8, 2)) < 0 || mm > 59 || p[10] != ':' ||
	    (ss = digits(p + 11, 2)) < 0 || ss > 59 || p[13] != ' ')
		return 0;
	p += 14;
	if ((p[0] == '+' || p[0] == '-') && strlen(p) == 5) {
		int v = digits(p + 1, 4);

		if (v < 0 || v > 1400 || v % 100 > 59)
			return 0;
		zone = (v / 100 * 60 + v % 100) * 60 * (p[0] == '+' ? 1 : -1);
	} else if (strcmp(p, "GMT") != 0) {
		return 0;
	}
	y = year - (mon <= 1);
	leap = y / 4 - y / 100 + y / 400 - (1969 / 4 - 1969 / 100 + 1969 / 400);
	return ((((int64_t)(year - 1970) * 365 + leap + before[mon] + day - 1) * 24 + hh) * 60 +
	    mm) * 60 + ss - zone;
}

int64_t
feeds_parse_date(const char *s)
{
	char tmp[128];
	time_t t;
	int64_t fast;

	if (snprintf(tmp, sizeof(tmp), "%s", s) >= (int)sizeof(tmp))
		return 0;
	str_squash_space(tmp);
	if (tmp[0] >= '0' && tmp[0] <= '9' && strlen(tmp) >= 10 && tmp[4] == '-')
		return parse_iso(tmp);
	if ((fast = rfc822_common(tmp)) > 0)
		return fast;
	/* RFC 822 dates, as pubDate has them: curl parses HTTP dates, which
	 * are the same family, with zone names and two-digit years. */
	t = curl_getdate(tmp, NULL);
	if (t == -1)
		return parse_iso(tmp);
	return t > 0 ? (int64_t)t : 0;
}
