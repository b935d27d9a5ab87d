/*
 * classify_bounce.c - rules 1 and 2 of the classifier (classify.c):
 * delivery reports, abuse reports, and mail to the bounce (VERP) and
 * unsubscribe addresses.  Pure: no I/O, no state.
 */
#include <stdio.h>
#include <string.h>

#include "classify.h"

static int
decided(struct inbox_intent *out, enum inbox_intent_kind kind, const char *reason)
{
	out->kind = kind;
	out->reason = reason;
	return 1;
}

/* The token of our bounce-TOKEN or unsubscribe-TOKEN address among addrs
 * (space separated) into out; "" if none is valid. */
static void
token_among(const char *addrs, const struct inbox_context *ctx, char *out)
{
	static const char *const cmds[] = { "bounce", "unsubscribe" };
	char tag[128], prefix[16];

	out[0] = '\0';
	for (size_t i = 0; i < 2 && out[0] == '\0'; i++) {
		snprintf(prefix, sizeof(prefix), "%s-", cmds[i]);
		if (classify_find_tag_in(addrs, ctx, prefix, tag, sizeof(tag)))
			classify_tag_token(tag, cmds[i], out);
	}
}

/* Feedback loops mostly deliver to the address the mail came from (our
 * main address, or an abuse@ that forwards to it), not to the VERP one:
 * the report's own fields then name the participant, if anything does.
 * A report with no token of ours must reach a person: nobody else can
 * stop the mail its complainer gets. */
static int
feedback_report(const struct inbox_message *m, const struct inbox_context *ctx,
    struct inbox_intent *out)
{
	char tag[128];

	if (classify_find_tag(m, ctx, "bounce-", tag, sizeof(tag)))
		classify_tag_token(tag, "bounce", out->token);
	if (out->token[0] != '\0')
		return decided(out, II_UNSUBSCRIBE, "abuse report (feedback loop) to the bounce "
		    "address of mail to this participant: no more mail to them");
	token_among(m->report_addrs, ctx, out->token);
	if (out->token[0] != '\0')
		return decided(out, II_UNSUBSCRIBE, "abuse report (feedback loop) naming this "
		    "participant's token: no more mail to them");
	return decided(out, II_UNKNOWN, "abuse report (feedback loop) naming no participant: "
	    "for a person to read");
}

int
classify_address_rules(const struct inbox_message *m, const struct inbox_context *ctx,
    struct inbox_intent *out)
{
	int vacation = m->x_autoreply || m->vacation_subject;
	char tag[128];

	if (m->is_feedback_report)
		return feedback_report(m, ctx, out);
	if (m->is_dsn) {
		if (classify_find_tag(m, ctx, "bounce-", tag, sizeof(tag)))
			classify_tag_token(tag, "bounce", out->token);
		return decided(out, II_BOUNCE, "delivery status notification");
	}
	if (classify_find_tag(m, ctx, "bounce", tag, sizeof(tag)) && (tag[6] == '\0' || tag[6] == '-')) {
		if (vacation)
			return decided(out, II_AUTOREPLY, "vacation notice sent to the bounce address");
		classify_tag_token(tag, "bounce", out->token);
		return decided(out, II_BOUNCE, out->token[0] ? "mail to the bounce address"
							    : "mail to the bounce address, no valid token");
	}
	if (!vacation && classify_find_tag(m, ctx, "unsubscribe", tag, sizeof(tag)) &&
	    (tag[11] == '\0' || tag[11] == '-')) {
		classify_tag_token(tag, "unsubscribe", out->token);
		return decided(out, II_UNSUBSCRIBE, "unsubscribe address");
	}
	return 0;
}
