/*
 * util.h - the small pieces every module shares: one error convention,
 * bounded growable buffers, logging, time, random tokens, strings.
 *
 * Error convention (used everywhere in Things): a function that can fail
 * returns int, 0 on success and -1 on failure, and writes a one-line reason
 * into a caller-supplied struct err.  Functions that also report "not found"
 * or "already there" document a positive return value.  No function below
 * the CLI exits the process.
 */
#ifndef THINGS_UTIL_H
#define THINGS_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/* --- errors ------------------------------------------------------------ */

#define ERR_MSG_MAX 512

struct err {
	char msg[ERR_MSG_MAX];
};

/* Formats a reason into e (e may be NULL) and returns -1, so that callers
 * can write `return err_set(e, "...")`. */
int err_set(struct err *e, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Puts context in front of the reason already in e ("ctx: reason");
 * returns -1. */
int err_prefix(struct err *e, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* --- bounded growable buffer ------------------------------------------ */

/* A byte buffer that is always NUL-terminated and never grows past max
 * bytes of content: appending beyond max fails instead of eating memory
 * (the idea of curl's dynbuf).  Zero-initialised after buf_init. */
struct buf {
	char *data;  /* NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;
};

#define BUF_MAX_DEFAULT ((size_t)64 << 20)

void buf_init(struct buf *b, size_t max);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);
/* Returns the string ("" if nothing was appended) and leaves b empty;
 * the caller frees it.  NULL only when out of memory. */
char *buf_steal(struct buf *b);
void buf_free(struct buf *b);
/* b->data, or "" when nothing has been appended. */
const char *buf_str(const struct buf *b);

/* --- logging ----------------------------------------------------------- */

enum log_level { LV_ERROR, LV_WARN, LV_INFO, LV_DEBUG };

/* Messages at or below level go to stderr (default LV_WARN: quiet under
 * cron except for what needs a human). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);
#define log_error(...) log_msg(LV_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LV_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LV_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LV_DEBUG, __VA_ARGS__)

/* --- time: seconds since the epoch, UTC, as int64_t ------------------- */

/* Parses "2027-01-11", "2027-01-11T09:00", "2027-01-11 09:00:30", with an
 * optional "Z" or "+01:00"/"-0500" offset.  Without an offset the time is
 * local time (TZ), as cron reads it.  Returns 0 or -1 with a reason. */
int time_parse_iso(const char *s, int64_t *out, struct err *e);
/* "2027-01-11 09:00" in local time. */
void time_format_local(int64_t t, char *out, size_t n);
/* RFC 5322 date in UTC: "Mon, 11 Jan 2027 09:00:00 +0000". */
void time_format_rfc5322(int64_t t, char *out, size_t n);
/* The current time, or the value set by time_set_now (for --now). */
int64_t time_now(void);
void time_set_now(int64_t t);

/* --- tokens ------------------------------------------------------------ */

#define TOKEN_HEX_LEN 24 /* 96 random bits */

/* Writes TOKEN_HEX_LEN lowercase hex digits from the kernel's CSPRNG and a
 * NUL into out (at least TOKEN_HEX_LEN + 1 bytes).  The random bytes come
 * from a per-thread pool of getrandom(2) output, each used once; a forked
 * child starts with an empty pool. */
int token_new(char *out, struct err *e);
/* Random bytes left in the calling thread's pool (for tests). */
size_t token_pool_left(void);
/* 1 if s is exactly a token's shape, else 0. */
int token_valid(const char *s);

/* --- strings ----------------------------------------------------------- */

/* strdup that treats NULL as NULL. */
char *str_dup(const char *s);
/* Copies at most n bytes of s and a NUL. */
char *str_ndup(const char *s, size_t n);
/* 1 if s holds a byte < 0x20 (other than tab when tab_ok) or 0x7f. */
int str_has_ctl(const char *s, int tab_ok);
/* Collapses runs of white space and control characters to one space and
 * trims both ends, in place: what a display name or subject may hold. */
void str_squash_space(char *s);
void str_lower(char *s);
/* Parses a whole decimal integer in [min, max]; 0 or -1. */
int str_to_int64(const char *s, int64_t min, int64_t max, int64_t *out);
/* The value of one hexadecimal digit (either case), or -1. */
int str_hex_digit(int c);
/* 1 if s is valid UTF-8 (no overlongs, no surrogates), else 0. */
int str_valid_utf8(const char *s, size_t n);

/* --- UTF-8 repair (utf8.c) --------------------------------------------- */

/* Appends in[0..len) to b as UTF-8: valid UTF-8 sequences as they are,
 * every other byte read as its windows-1252 character (U+FFFD for the five
 * bytes windows-1252 leaves undefined), so a truncated sequence becomes one
 * character per byte.  The output is valid UTF-8 and at most 3 * len bytes;
 * valid UTF-8 input is copied unchanged.  0, or -1 when b is full (nothing
 * is said about how much was appended) or out of memory. */
int utf8_repair_append(struct buf *b, const char *in, size_t len);

/* --- addresses --------------------------------------------------------- */

#define ADDR_MAX 254

/* Checks that s is a plain addr-spec (local@domain, no display name, no
 * spaces, no control characters, no angle brackets, at most ADDR_MAX
 * bytes) and writes its canonical form (lowercase) into out.  0 or -1. */
int addr_normalize(const char *s, char *out, size_t n, struct err *e);
/* The domain part of a normalized address (pointer into addr). */
const char *addr_domain(const char *addr);
/* Builds "local+tag@domain" from "local@domain"; delim is usually '+'. */
int addr_with_tag(const char *addr, char delim, const char *tag, char *out, size_t n);

/* --- fault injection ---------------------------------------------------- */

/* With THINGS_FAULT="POINT:TEXT" in the environment, fault_point(POINT,
 * data, len) aborts the process when data holds TEXT: the crash-recovery
 * tests' stand-in for a library that crashes on a hostile input (they need
 * one on demand; a real one is a bug we would fix).  Otherwise nothing.
 * Points: "parse" (a message about to be parsed), "feed" (a feed body
 * about to be parsed), "compose" (a message just composed for sending). */
void fault_point(const char *point, const void *data, size_t len);

#endif
