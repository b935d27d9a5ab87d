/* fault.c - fault_point: crashes on demand for the crash-recovery tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void
fault_point(const char *point, const void *data, size_t len)
{
	static const char *spec;
	static int looked;
	size_t plen = strlen(point);
	const char *text;

	if (!looked) {
		spec = getenv("THINGS_FAULT");
		looked = 1;
	}
	if (spec == NULL || strncmp(spec, point, plen) != 0 || spec[plen] != ':')
		return;
	text = spec + plen + 1;
	if (text[0] != '\0' && data != NULL && memmem(data, len, text, strlen(text)) != NULL) {
		fprintf(stderr, "things: THINGS_FAULT: crashing at %s on purpose\n", point);
		abort();
	}
}
