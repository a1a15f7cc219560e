/* Wall-clock times: --since/--until parsed, times formatted in UTC or local time. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "when.h"

#define NS_PER_S 1000000000LL

/* Seconds and nanoseconds of a Unix time, rounding down (before 1970 too). */
static int64_t split_ns(int64_t unix_ns, long *nanos)
{
	int64_t seconds = unix_ns / NS_PER_S;
	int64_t rest = unix_ns % NS_PER_S;

	if (rest < 0) {
		rest += NS_PER_S;
		seconds--;
	}
	*nanos = (long)rest;
	return seconds;
}

static char *put_digits(char *p, long value, int count)
{
	for (int i = count - 1; i >= 0; i--) {
		p[i] = (char)('0' + value % 10);
		value /= 10;
	}
	return p + count;
}

/* A second as the calendar has it, with its date and clock as text. */
struct second {
	int64_t seconds;
	bool local;
	struct tm tm;
	char date[10]; /* "2026-11-23" */
	char clock[8]; /* "01:18:03" */
};

static void write_date(char *p, const struct tm *tm)
{
	p = put_digits(p, tm->tm_year + 1900L, 4);
	*p++ = '-';
	p = put_digits(p, tm->tm_mon + 1, 2);
	*p++ = '-';
	put_digits(p, tm->tm_mday, 2);
}

static void write_clock(char *p, const struct tm *tm)
{
	p = put_digits(p, tm->tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, tm->tm_min, 2);
	*p++ = ':';
	put_digits(p, tm->tm_sec, 2);
}

/*
 * The calendar time of a second, cached with its text: rows arrive in time
 * order, so consecutive rows mostly share their second, and its conversion
 * and formatting are skipped.  One cache per thread: any thread may format.
 */
static const struct second *calendar(int64_t seconds, bool local)
{
	static _Thread_local struct second cached = {.seconds = INT64_MIN};
	time_t t = (time_t)seconds;

	if (seconds == cached.seconds && local == cached.local)
		return &cached;
	if (!(local ? localtime_r(&t, &cached.tm) : gmtime_r(&t, &cached.tm)))
		memset(&cached.tm, 0, sizeof(cached.tm)); /* out of the calendar's range: 1900 */
	write_date(cached.date, &cached.tm);
	write_clock(cached.clock, &cached.tm);
	cached.seconds = seconds;
	cached.local = local;
	return &cached;
}

/* "2026-11-23T01:18:03" with the separator given */
static char *put_date_clock(char *p, const struct second *s, char separator)
{
	memcpy(p, s->date, sizeof(s->date));
	p += sizeof(s->date);
	*p++ = separator;
	memcpy(p, s->clock, sizeof(s->clock));
	return p + sizeof(s->clock);
}

/* "+01:00": the local offset from UTC */
static char *put_offset(char *p, const struct tm *tm)
{
	long offset = tm->tm_gmtoff;

	*p++ = offset < 0 ? '-' : '+';
	offset = labs(offset) / 60;
	p = put_digits(p, offset / 60, 2);
	*p++ = ':';
	return put_digits(p, offset % 60, 2);
}

size_t format_rfc3339(int64_t unix_ns, bool local, char *buf)
{
	long nanos;
	const struct second *s = calendar(split_ns(unix_ns, &nanos), local);
	char *p = put_date_clock(buf, s, 'T');

	*p++ = '.';
	p = put_digits(p, nanos, 9);
	if (local)
		p = put_offset(p, &s->tm);
	else
		*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - buf);
}

size_t format_clock(int64_t unix_ns, bool local, char *buf)
{
	long nanos;
	const struct second *s = calendar(split_ns(unix_ns, &nanos), local);

	char *p = (char *)memcpy(buf, s->clock, sizeof(s->clock)) + sizeof(s->clock);

	*p++ = '.';
	p = put_digits(p, nanos / 1000000, 3);
	*p = '\0';
	return (size_t)(p - buf);
}

size_t format_human(int64_t unix_ns, bool local, char *buf)
{
	long nanos;
	const struct second *s = calendar(split_ns(unix_ns, &nanos), local);
	char *p = put_date_clock(buf, s, ' ');

	*p++ = '.';
	p = put_digits(p, nanos, 9);
	*p++ = ' ';
	if (local)
		p = put_offset(p, &s->tm);
	else
		p = stpcpy(p, "UTC");
	*p = '\0';
	return (size_t)(p - buf);
}

/* --- Parsing ------------------------------------------------------------ */

/* Exactly count digits. */
static bool take_digits(const char **p, int count, int *value)
{
	*value = 0;
	for (int i = 0; i < count; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return false;
		*value = *value * 10 + (**p - '0');
	}
	return true;
}

/* An optional ".123": one to nine digits of a second. */
static bool take_fraction(const char **p, long *nanos)
{
	long scale = NS_PER_S / 10;

	*nanos = 0;
	if (**p != '.')
		return true;
	(*p)++;
	if (!isdigit((unsigned char)**p))
		return false;
	for (; isdigit((unsigned char)**p); (*p)++, scale /= 10) {
		if (!scale)
			return false;
		*nanos += (**p - '0') * scale;
	}
	return true;
}

/* An optional zone: Z, +HH, +HH:MM or +HHMM (or -). */
static bool take_zone(const char **p, bool *given, long *offset_s)
{
	int hours, minutes = 0, sign;

	*given = false;
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		*given = true;
		*offset_s = 0;
		return true;
	}
	if (**p != '+' && **p != '-')
		return true;
	sign = *(*p)++ == '-' ? -1 : 1;
	if (!take_digits(p, 2, &hours) || hours > 23)
		return false;
	if (**p == ':')
		(*p)++;
	if (isdigit((unsigned char)**p) && (!take_digits(p, 2, &minutes) || minutes > 59))
		return false;
	*given = true;
	*offset_s = sign * (hours * 3600L + minutes * 60L);
	return true;
}

static bool take_clock(const char **p, struct tm *tm, long *nanos)
{
	tm->tm_sec = 0;
	*nanos = 0;
	if (!take_digits(p, 2, &tm->tm_hour) || tm->tm_hour > 23 || *(*p)++ != ':' ||
	    !take_digits(p, 2, &tm->tm_min) || tm->tm_min > 59)
		return false;
	if (**p != ':')
		return true;
	(*p)++;
	return take_digits(p, 2, &tm->tm_sec) && tm->tm_sec <= 59 && take_fraction(p, nanos);
}

static int days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

static bool take_date(const char **p, struct tm *tm)
{
	int year, month;

	if (!take_digits(p, 4, &year) || *(*p)++ != '-' || !take_digits(p, 2, &month) ||
	    month < 1 || month > 12 || *(*p)++ != '-' || !take_digits(p, 2, &tm->tm_mday) ||
	    tm->tm_mday < 1 || tm->tm_mday > days_in_month(year, month))
		return false;
	tm->tm_year = year - 1900;
	tm->tm_mon = month - 1;
	return true;
}

/* Seconds and nanoseconds as Unix ns, refusing what int64 ns cannot hold. */
static int to_ns(int64_t seconds, long nanos, int64_t *unix_ns)
{
	if (seconds <= INT64_MIN / NS_PER_S || seconds >= INT64_MAX / NS_PER_S)
		return -1;
	*unix_ns = seconds * NS_PER_S + nanos;
	return 0;
}

/* "@1795397219.25": Unix seconds */
static int parse_epoch(const char *text, int64_t *unix_ns)
{
	long long seconds;
	long nanos;
	char *end;

	if (!isdigit((unsigned char)*text))
		return -1;
	seconds = strtoll(text, &end, 10);
	text = end;
	if (!take_fraction(&text, &nanos) || *text)
		return -1;
	return to_ns(seconds, nanos, unix_ns);
}

/* "+90s", "+1h30m", "+250ms": after reference_ns */
static int parse_offset(const char *text, int64_t reference_ns, int64_t *unix_ns)
{
	static const struct {
		const char *name;
		int64_t ns;
	} units[] = {{"ns", 1},
		     {"us", 1000},
		     {"ms", 1000000},
		     {"s", NS_PER_S},
		     {"m", 60 * NS_PER_S},
		     {"h", 3600 * NS_PER_S},
		     {"d", 86400 * NS_PER_S}};
	int64_t total = 0;

	if (!*text)
		return -1;
	while (*text) {
		long long amount;
		int64_t part;
		char *end;
		size_t i;

		if (!isdigit((unsigned char)*text))
			return -1;
		amount = strtoll(text, &end, 10);
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t len = strlen(units[i].name);

			if (!strncmp(end, units[i].name, len) && !isalpha((unsigned char)end[len]))
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]) ||
		    __builtin_mul_overflow(amount, units[i].ns, &part) ||
		    __builtin_add_overflow(total, part, &total))
			return -1;
		text = end + strlen(units[i].name);
	}
	return __builtin_add_overflow(reference_ns, total, unix_ns) ? -1 : 0;
}

int parse_when(const char *text, int64_t reference_ns, bool local, int64_t *unix_ns)
{
	const char *p = text;
	struct tm tm = {0};
	bool zoned;
	long nanos = 0, offset_s = 0;
	int64_t seconds;

	if (*p == '@')
		return parse_epoch(p + 1, unix_ns);
	if (*p == '+')
		return parse_offset(p + 1, reference_ns, unix_ns);
	if (strlen(p) >= 10 && p[4] == '-') {
		if (!take_date(&p, &tm))
			return -1;
		if (*p == 'T' || *p == 't' || *p == ' ') {
			p++;
			if (!take_clock(&p, &tm, &nanos))
				return -1;
		}
		if (!take_zone(&p, &zoned, &offset_s) || *p)
			return -1;
	} else {
		/* A time of day: on the day the earliest capture started. */
		long ignored;
		struct tm day;

		if (!take_clock(&p, &tm, &nanos) || !take_zone(&p, &zoned, &offset_s) || *p)
			return -1;
		seconds = split_ns(reference_ns, &ignored);
		day = calendar(zoned ? seconds + offset_s : seconds, local && !zoned)->tm;
		tm.tm_year = day.tm_year;
		tm.tm_mon = day.tm_mon;
		tm.tm_mday = day.tm_mday;
	}
	if (zoned) {
		seconds = (int64_t)timegm(&tm) - offset_s;
	} else if (local) {
		tm.tm_isdst = -1;
		seconds = (int64_t)mktime(&tm);
	} else {
		seconds = (int64_t)timegm(&tm);
	}
	return to_ns(seconds, nanos, unix_ns);
}
