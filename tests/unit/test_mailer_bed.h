/*
 * test_mailer_bed.h - the mailer fixture (test_mailer_fixture.h) sending
 * over SMTP to the scripted server of test_mailer_fake.h.  Included by
 * test_mailer_*.c only.
 */
#ifndef THINGS_TEST_MAILER_BED_H
#define THINGS_TEST_MAILER_BED_H

#include "test_mailer_fake.h"
#include "test_mailer_fixture.h"

struct bed {
	struct fixture *f;
	struct fake server;
	char url[64];
};

static __attribute__((unused)) int
bed_setup(void **state)
{
	struct bed *b = calloc(1, sizeof(*b));

	if (b == NULL || setup(state) == -1)
		return -1;
	b->f = *state;
	fake_start(&b->server, FAKE_NORMAL);
	snprintf(b->url, sizeof(b->url), "smtp://127.0.0.1:%d", b->server.port);
	b->f->p.cfg.smtp_url = b->url;
	*state = b;
	return 0;
}

static __attribute__((unused)) int
bed_teardown(void **state)
{
	struct bed *b = *state;

	fake_stop(&b->server);
	*state = b->f;
	free(b);
	return teardown(state);
}

#endif
