/* bounce.c - bounce scoring: how a failed delivery counts against an
 * address, and suspending the participant whose score reaches the
 * threshold (telling the organisers, and the participant at their
 * alternate address, once). */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define DAY 86400

/* "4.x.x" / "5.x.x" -> 4 / 5; anything else 0. */
static int
status_class(const char *status)
{
	if (status == NULL || (status[0] != '4' && status[0] != '5') || status[1] != '.')
		return 0;
	return status[0] - '0';
}

enum bounce_severity
bounce_severity_of(const char *status, int smtp_code, const char *dsn_action)
{
	int cls = status_class(status);

	/* a warning, or a report of success: nothing failed */
	if (dsn_action != NULL && dsn_action[0] != '\0' && strcmp(dsn_action, "failed") != 0)
		return BOUNCE_NONE;
	/* X.7.X is security or policy (RFC 3463): a spam block or a relay
	 * refusal says nothing about whether the mailbox exists */
	if (cls != 0 && strncmp(status + 1, ".7.", 3) == 0)
		return BOUNCE_NONE;
	if (cls == 0 && smtp_code >= 400 && smtp_code < 600)
		cls = smtp_code / 100;
	if (cls == 5)
		return BOUNCE_HARD;
	if (cls == 4)
		return BOUNCE_SOFT;
	/* a bounce with no status at all (a plain-text report to the VERP
	 * address): something went wrong, we cannot tell how badly */
	return (status == NULL || status[0] == '\0') && smtp_code == 0 ? BOUNCE_SOFT : BOUNCE_NONE;
}

double
bounce_score_next(double score, int64_t last_at, int64_t now, enum bounce_severity sev,
    int stale_days, int *counted)
{
	*counted = 0;
	if (sev == BOUNCE_NONE)
		return score;
	if (last_at > 0 && now - last_at >= (int64_t)stale_days * DAY)
		score = 0;
	else if (last_at > 0 && now - last_at < DAY)
		return score;
	*counted = 1;
	return score + (sev == BOUNCE_HARD ? 1.0 : 0.5);
}

/* Queues the notice to every organiser, and the participant's own to
 * their alternate address if they have one; the key (participant id and
 * time of suspension) makes each once per suspension. */
static int
tell_suspension(struct store *st, const struct participant *p, int64_t now,
    const struct bounce_policy *pol, struct err *e)
{
	char key[STORE_KEY_MAX + 1];
	int64_t id;

	snprintf(key, sizeof(key), "%lld.%lld", (long long)p->id, (long long)now);
	if (p->alt_address[0] != '\0') {
		struct delivery_request r = {
			.participant_id = p->id,
			.recipient = p->alt_address,
			.kind = DK_SUSPENDED_ALT,
			.key = key,
			.due_at = now,
			.msgid_domain = pol->msgid_domain,
		};

		if (store_delivery_enqueue(st, &r, now, &id, e) == -1)
			return -1;
	}
	for (size_t i = 0; i < pol->norganisers; i++) {
		struct delivery_request r = {
			.recipient = pol->organisers[i],
			.kind = DK_SUSPENDED,
			.key = key,
			.due_at = now,
			.msgid_domain = pol->msgid_domain,
		};

		if (store_delivery_enqueue(st, &r, now, &id, e) == -1)
			return -1;
	}
	return 0;
}

int
store_participant_bounce(struct store *st, int64_t participant_id, enum bounce_severity sev,
    const char *reason, int64_t now, const struct bounce_policy *pol,
    struct bounce_outcome *out, struct err *e)
{
	static const char upd[] =
	    "UPDATE participants SET bounce_score = ?2, bounce_at = ?3, bounce_reason = ?4"
	    " WHERE id = ?1";
	char clipped[STORE_REASON_MAX + 1];
	struct participant p;
	sqlite3_stmt *s;
	int own, rc;

	memset(out, 0, sizeof(*out));
	if (sev == BOUNCE_NONE)
		return 0;
	if (store_auto_begin(st, &own, e) == -1)
		return -1;
	rc = store_participant_by_id(st, participant_id, &p, e);
	if (rc != 0) {
		if (rc == 1)
			rc = err_set(e, "store: bounce for participant %lld, who does not exist",
			    (long long)participant_id);
		goto out;
	}
	out->score = bounce_score_next(p.bounce_score, p.bounce_at, now, sev, pol->stale_days,
	    &out->counted);
	if (!out->counted)
		goto out;
	store_clip_utf8(reason, clipped, sizeof(clipped));
	if ((s = store_stmt(st, upd, e)) == NULL) {
		rc = -1;
		goto out;
	}
	sqlite3_bind_int64(s, 1, participant_id);
	sqlite3_bind_double(s, 2, out->score);
	sqlite3_bind_int64(s, 3, now);
	store_bind_text(s, 4, clipped);
	if ((rc = store_step_done(st, s, e, "record bounce")) == -1)
		goto out;
	if (p.status == PS_ACTIVE && out->score >= pol->threshold) {
		out->suspended = 1;
		if ((rc = store_participant_set_status(st, participant_id, PS_SUSPENDED, now,
		    e)) == 0)
			rc = tell_suspension(st, &p, now, pol, e);
	}
out:
	return store_auto_end(st, own, rc, e);
}
