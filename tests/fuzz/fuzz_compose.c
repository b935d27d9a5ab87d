/*
 * fuzz_compose.c - libFuzzer target: untrusted text (a participant's name,
 * the subject of their mail, the In-Reply-To of their mail, their text)
 * through compose_message.  Whatever it is, the header must stay a header:
 * printable ASCII, CRLF line ends only, a CRLF followed by white space
 * unless it ends a field, no line over 78 columns (998 for the ids of
 * In-Reply-To and References, which cannot fold), exactly the fields we
 * write, one blank line before the body; and the body's parts must not
 * contain the boundary.
 *
 * Build and run: `make fuzz-compose` (FUZZ_TIME seconds, default 60; the corpus
 * grows in build/fuzz-compose-corpus).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../mailer/compose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_header(const char *m, size_t len)
{
	static const char *const names[] = { "Date:", "From:", "To:", "Reply-To:", "Subject:",
		"Message-ID:", "In-Reply-To:", "References:", "List-Id:", "List-Unsubscribe:",
		"List-Unsubscribe-Post:", "List-Help:", "Precedence:", "Auto-Submitted:",
		"MIME-Version:", "Content-Type:" };
	const char *end = memmem(m, len, "\r\n\r\n", 4), *line = m;
	size_t limit = 78;

	if (end == NULL)
		__builtin_trap();
	end += 2;
	while (line < end) {
		const char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
		size_t i, n;

		/* an id cannot be folded: its line may pass 78 (never 998) */
		if (line[0] != ' ')
			limit = strncmp(line, "In-Reply-To:", 12) == 0 ||
			    strncmp(line, "References:", 11) == 0 ? 998 : 78;
		if (eol == NULL || (size_t)(eol - line) > limit)
			__builtin_trap();
		for (const char *p = line; p < eol; p++)
			if (*p < 0x20 || *p > 0x7e)
				__builtin_trap();
		if (line[0] != ' ') {
			for (i = 0, n = sizeof(names) / sizeof(names[0]); i < n; i++)
				if (strncmp(line, names[i], strlen(names[i])) == 0)
					break;
			if (i == n)
				__builtin_trap();
		}
		line = eol + 2;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), *part[4] = { "", "", "", "" }, *p;
	struct compose_spec s = { 0 };
	struct buf out;
	struct err e;
	size_t k = 0;

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	/* four NUL-separated texts: name, subject, in-reply-to, body */
	for (p = in; k < 4 && p <= in + size; k++) {
		part[k] = p;
		p += strlen(p) + 1;
	}
	s.from_name = "12 Things";
	s.from_addr = "things@example.org";
	s.to_name = part[0];
	s.to_addr = "ann@example.net";
	s.reply_to_name = part[0];
	s.reply_to_addr = "ann@example.net";
	s.subject = part[1];
	s.message_id = "abc.thing@example.org";
	s.in_reply_to = part[2];
	s.list_name = part[0];
	s.list_id = "things.example.org";
	s.unsubscribe_mailto = "mailto:things+unsubscribe-x@example.org";
	s.text = part[3];
	s.text_len = strlen(part[3]);
	s.html = data != NULL ? (const char *)data : "";
	s.html_len = size;
	s.date = 1800000000;
	buf_init(&out, 0);
	if (compose_message(&s, &out, &e) == 0) {
		static const char ct[] = "\r\nContent-Type: multipart/alternative;\r\n boundary=\"";
		const char *b = strstr(out.data, ct);
		char boundary[80];
		size_t bl;

		check_header(out.data, out.len);
		if (b == NULL)
			__builtin_trap();
		b += sizeof(ct) - 1;
		bl = strcspn(b, "\"");
		if (bl + 5 > sizeof(boundary))
			__builtin_trap();
		boundary[0] = '-';
		boundary[1] = '-';
		memcpy(boundary + 2, b, bl);
		boundary[bl + 2] = '\0';
		/* the boundary line: two parts, one close */
		{
			size_t count = 0;

			for (const char *q = out.data; (q = strstr(q, boundary)) != NULL; q++)
				count++;
			if (count != 3)
				__builtin_trap();
		}
	}
	buf_free(&out);
	free(in);
	return 0;
}
