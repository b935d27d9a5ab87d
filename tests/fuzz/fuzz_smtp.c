/*
 * fuzz_smtp.c - libFuzzer target: whatever an SMTP server sends, through
 * the reply reader (smtp_reply.c), the EHLO keywords and the transaction
 * state machine (smtp_dialogue.c), cut into reads of varying sizes.  The
 * first input byte chooses the server's capabilities and the read sizes;
 * the rest is the server's byte stream.  Checked on every reply: a code in
 * 100..599, one line of text without control characters; on every
 * transaction: an outcome of the three kinds, commands bounded.
 *
 * Build and run: `make fuzz-smtp` (FUZZ_TIME seconds, default 60).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../mailer/smtp_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_reply(const struct smtp_reply *r)
{
	size_t n = strnlen(r->text, sizeof(r->text));

	if (r->code < 100 || r->code > 599 || n == sizeof(r->text) || str_has_ctl(r->text, 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char body[] = "Subject: x\r\n\r\n.line\r\n..\r\nend\r\n";
	const struct transport_msg msg = { "things+bounce-abc@example.org",
		"r\xc3\xa9@example.org", body, sizeof(body) - 1 };
	struct smtp_caps caps = { 0 };
	struct smtp_reader rd;
	struct smtp_txn t;
	struct buf out;
	size_t pos = 1, chunk;
	int state, txns = 0;

	if (size < 1)
		return 0;
	caps.flags = data[0] & 7u;
	chunk = 1 + (data[0] >> 3);      /* 1..32 bytes a read */
	smtp_reader_reset(&rd);
	buf_init(&out, (size_t)1 << 16);
	state = smtp_txn_begin(&t, &msg, &caps, &out);
	while (state == SMTP_TXN_MORE && pos < size) {
		size_t n = size - pos < chunk ? size - pos : chunk, used = 0;
		struct smtp_reply r;
		struct err e;
		int got = smtp_reader_feed(&rd, (const char *)data + pos, n, &used, &r, &e);

		if (used > n || (got == 0 && used != n))
			abort();
		pos += used;
		if (got == -1)
			break;
		if (got == 0)
			continue;
		check_reply(&r);
		smtp_caps_line(&caps, r.text, strlen(r.text));
		state = smtp_txn_reply(&t, &r, &out);
		if (state == SMTP_TXN_DONE && ++txns < 8) {
			if (t.res.status > TR_PERMANENT || str_has_ctl(t.res.text, 0))
				abort();
			buf_reset(&out);
			state = smtp_txn_begin(&t, &msg, &caps, &out);
		}
		if (out.len > ((size_t)1 << 15))
			buf_reset(&out);    /* sent, as smtp.c would */
	}
	buf_free(&out);
	return 0;
}
