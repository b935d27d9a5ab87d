/*
 * seed.c - bench helper: adds N active participants to a store in one
 * transaction (user000001@DOMAIN ... with a display name each), so that a
 * benchmark does not spend minutes running `things subscribe` N times.
 *
 *   seed STORE_PATH N DOMAIN
 *
 * Built by bench/fanout against build/libthings.a; not part of the program.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../store/store.h"
#include "../util/util.h"

int
main(int argc, char **argv)
{
	struct store *st = NULL;
	struct participant p;
	struct err e;
	int64_t n, now = time_now();

	if (argc != 4 || str_to_int64(argv[2], 1, 10000000, &n) == -1) {
		fprintf(stderr, "usage: seed STORE_PATH N DOMAIN\n");
		return 2;
	}
	if (store_open(argv[1], &st, &e) == -1 || store_begin(st, &e) == -1)
		goto fail;
	for (int64_t i = 1; i <= n; i++) {
		char addr[ADDR_MAX + 1], name[64];

		snprintf(addr, sizeof(addr), "user%06lld@%s", (long long)i, argv[3]);
		snprintf(name, sizeof(name), "Participant %lld", (long long)i);
		if (store_participant_add(st, addr, name, PS_ACTIVE, now, &p, &e) == -1)
			goto fail;
	}
	if (store_commit(st, &e) == -1)
		goto fail;
	store_close(st);
	return 0;
fail:
	fprintf(stderr, "seed: %s\n", e.msg);
	store_close(st);
	return 1;
}
