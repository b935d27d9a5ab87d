/* timeutil.c - ISO 8601 input, RFC 5322 output, and the simulated clock. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

static int64_t simulated_now = -1;

int64_t
time_now(void)
{
	return simulated_now >= 0 ? simulated_now : (int64_t)time(NULL);
}

void
time_set_now(int64_t t)
{
	simulated_now = t;
}

/* Reads exactly n digits at *p; advances *p. */
static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* Parses "Z", "+HH:MM", "+HHMM", "+HH" at p; sets *offset in seconds. */
static int
parse_offset(const char *p, int *offset)
{
	int sign, hh, mm = 0;

	if (strcmp(p, "Z") == 0 || strcmp(p, "z") == 0) {
		*offset = 0;
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (digits(&p, 2, &hh) == -1)
		return -1;
	if (*p == ':')
		p++;
	if (*p != '\0' && digits(&p, 2, &mm) == -1)
		return -1;
	if (*p != '\0' || hh > 23 || mm > 59)
		return -1;
	*offset = sign * (hh * 3600 + mm * 60);
	return 0;
}

int
time_parse_iso(const char *s, int64_t *out, struct err *e)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, offset = 0, has_offset = 0;
	struct tm tm;
	time_t t;

	if (digits(&p, 4, &y) == -1 || *p++ != '-' || digits(&p, 2, &mo) == -1 ||
	    *p++ != '-' || digits(&p, 2, &d) == -1)
		goto bad;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) == -1 || *p++ != ':' || digits(&p, 2, &mi) == -1)
			goto bad;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec) == -1)
				goto bad;
		}
	}
	if (*p != '\0') {
		if (parse_offset(p, &offset) == -1)
			goto bad;
		has_offset = 1;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		goto bad;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if (has_offset) {
		t = timegm(&tm);
		*out = (int64_t)t - offset;
	} else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
		if (t == (time_t)-1)
			goto bad;
		*out = (int64_t)t;
	}
	return 0;
bad:
	return err_set(e, "'%s' is not a date (want 2027-01-11 or 2027-01-11 09:00,"
	    " two digits for hours and minutes)", s);
}

void
time_format_local(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M", &tm);
}

void
time_format_rfc5322(int64_t t, char *out, size_t n)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	/* Built by hand: strftime's %a/%b follow the locale, RFC 5322 does not. */
	gmtime_r(&tt, &tm);
	snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday],
	    tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
