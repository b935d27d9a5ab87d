/* transport.c - picking a transport by URL, and the checks every one of
 * them shares. */
#include <string.h>

#include "rfc2047.h"
#include "transport.h"

int
transport_addr_ok(const char *addr)
{
	return rfc2047_angle_ok(addr, ADDR_MAX) && strchr(addr, '@') != NULL;
}

int
transport_open(const struct transport_config *cfg, struct transport **out, struct err *e)
{
	const char *url = cfg->url ? cfg->url : "";

	*out = NULL;
	if (strncmp(url, "maildir:", 8) == 0)
		return maildir_open(url + 8, out, e);
	if (strncmp(url, "smtp://", 7) == 0 || strncmp(url, "smtps://", 8) == 0 ||
	    strncmp(url, "smtp+starttls://", 16) == 0)
		return smtp_open(cfg, out, e);
	return err_set(e, "smtp url: '%.80s' is neither smtp://, smtp+starttls://, smtps:// "
	    "nor maildir:", url);
}

int
transport_submit(struct transport *t, size_t slot, const struct transport_msg *msg,
    struct err *e)
{
	if (slot >= t->slots)
		return err_set(e, "%s: no slot %zu", t->name, slot);
	if (!transport_addr_ok(msg->sender) || !transport_addr_ok(msg->recipient))
		return err_set(e, "%s: refusing envelope <%.80s> -> <%.80s>", t->name,
		    msg->sender, msg->recipient);
	if (t->ops->submit(t, slot, msg, e) == -1)
		return -1;
	t->busy++;
	return 0;
}

int
transport_wait(struct transport *t, size_t *slot, struct transport_result *res,
    struct err *e)
{
	if (t->busy == 0)
		return 1;
	memset(res, 0, sizeof(*res));
	if (t->ops->wait(t, slot, res, e) == -1)
		return -1;
	t->busy--;
	return 0;
}

void
transport_close(struct transport *t)
{
	if (t != NULL)
		t->ops->close(t);
}
