/*
 * templates_default.c - the built-in text of every message, and the
 * variables each one may use.  A file DIR/templates/KIND.md replaces one.
 *
 * Format: a first line "Subject: ...", a blank line, then a Markdown body.
 * {{name}} is replaced by a variable; names are [a-z][a-z0-9_]*, not
 * ending in '_'.  In the Markdown, \{{name}} is the literal text.
 * {{#x}}...{{/x}} keeps its content only if x is not empty, {{^x}}...{{/x}}
 * only if it is; a marker alone on its line takes the line with it.  The
 * variable of a section must be given to content_prepare.
 *
 * The variables the mailer supplies (agreed names; programme_load refuses
 * templates and Things that use others):
 *
 *   every message   name                display name, or the local part
 *                   address             the recipient
 *                   programme           programme name
 *                   programme_address   things@domain
 *                   help_address        things+help@domain
 *                   unsubscribe_mailto  mailto: URL with the participant's
 *                                       token; empty for mail to organisers
 *   thing           thing_number, thing_title,
 *                   thing_body (markdown=1: the Thing's Markdown),
 *                   reflection_address  things+done-N@domain
 *   confirm         confirm_address     things+confirm-TOKEN@domain
 *   welcome         things_count, blog_address (things+blog@domain),
 *                   start_date
 *   reflection-ack  thing_number, thing_title, url, done, total
 *   help-ack        subject
 *   help-forward    from, subject, body (literal text), thing_number
 *                   (may be empty), ticket             [to organisers]
 *   unknown-forward from, subject, body, thing_number, reason
 *                                                      [to organisers]
 *   unsubscribe-confirm  confirm_address
 *   goodbye         (the common ones)
 *   blog-ack        blog_url, feed_url (may be empty); feed_url decides a
 *                   section, so it must be given to content_prepare
 *   suspended       participant ("Name <address>"), participant_address,
 *                   bounce_score, bounce_threshold, bounce_reason,
 *                   alt_address (where the participant was told, may be
 *                   empty: a section, so it must be given to
 *                   content_prepare)                   [to organisers]
 *   oversize        subject, limit ("10 MB")
 *   failed-notice   from, subject, body, thing_number, reason, where
 *                                                      [to organisers]
 *   ticket-reminder from, subject, body, thing_number, ticket, waiting
 *                   ("3 days")                         [to organisers]
 *   command-answer  subject, result (the commands and what each did)
 *                                                      [to an organiser]
 *   late-notice     thing_number, thing_title, held (how many are held
 *                   now), late_hours (max_lateness_hours),
 *                   release_command, skip_command, status_command,
 *                   reminder ("yes" in a weekly reminder of a hold left
 *                   as it is, else empty: a section, so it must be given
 *                   to content_prepare), held_days ("14 days": how long
 *                   the oldest has been held, in a reminder)
 *                                                      [to organisers]
 *   digest          digest_body (markdown=1: the posts, grouped by Thing,
 *                   built with the escaping functions), week ("2027-W03")
 *   feed-broken     blog_url, blog_address, feed_url, error (what went wrong, technical),
 *                   failures (fetches in a row), last_ok (date of the last
 *                   good fetch, may be empty), and one of problem_gone,
 *                   problem_private, problem_missing, problem_web_page,
 *                   problem_not_a_feed, problem_unreachable, problem_other,
 *                   problem_blocked
 *                   is "yes" (the others empty): sections, so they must be
 *                   given to content_prepare
 *   alternate-confirm  participant_address (whose alternate it would be),
 *                   confirm_address                [to the alternate address]
 *   alternate-ack   participant_address, alt_address, and one of
 *                   alt_requested, alt_confirmed, alt_cleared is "yes" (the
 *                   others empty): sections, so they must be given to
 *                   content_prepare
 *   suspended-alternate  participant, participant_address, bounce_score,
 *                   bounce_threshold, bounce_reason, subscribe_address
 *                   (things+subscribe@domain)      [to the alternate address]
 *   certificate     things_count, done, certificate_number, completed_date
 *
 * Things (things/NN-slug.md) may use the common variables and
 * thing_number, thing_title, reflection_address.
 */
#include <string.h>

#include "content_int.h"
#include "../store/store.h"

const char *const template_common_vars[] = { "name", "address", "programme",
	"programme_address", "help_address", "unsubscribe_mailto", NULL };

static const char *const vars_thing[] = { "thing_number", "thing_title", "thing_body", "reflection_address", NULL };
static const char text_thing[] =
    "Subject: Thing {{thing_number}}: {{thing_title}}\n"
    "\n"
    "Hello {{name}},\n"
    "\n"
    "Thing {{thing_number}} of {{programme}} is ready for you. There is no test\n"
    "and no deadline: it is a chance to try something new and to think about\n"
    "what it could do for your library and the people you help.\n"
    "\n"
    "# Thing {{thing_number}}: {{thing_title}}\n"
    "\n"
    "{{thing_body}}\n"
    "\n"
    "* * *\n"
    "\n"
    "**Over to you**\n"
    "\n"
    "1. Try it, when it suits you this week or next.\n"
    "2. Write a post on your blog: what you did, what worked and what did not,\n"
    "   and whether you would use it in your work.\n"
    "3. Reply to this message with the link to your post (or send the link to\n"
    "   {{reflection_address}}), and we will mark Thing {{thing_number}} as done.\n"
    "\n"
    "Stuck, or want to talk it over? Write to {{help_address}}: a person reads\n"
    "every message.\n"
    "\n"
    "You receive this because you joined {{programme}}.\n"
    "[Leave the programme]({{unsubscribe_mailto}}) at any time.\n";

static const char *const vars_confirm[] = { "confirm_address", NULL };
static const char text_confirm[] =
    "Subject: Please confirm: joining {{programme}}\n"
    "\n"
    "Hello {{name}},\n"
    "\n"
    "Someone, probably you, asked to join **{{programme}}** with the address\n"
    "{{address}}.\n"
    "\n"
    "**To confirm, reply to this message.** It does not matter what you write;\n"
    "an empty reply will do. You can also send a message to\n"
    "{{confirm_address}}.\n"
    "\n"
    "If it wasn't you, ignore this message: nothing will happen, and you will\n"
    "not hear from us again.\n";

static const char *const vars_welcome[] = { "things_count", "blog_address", "start_date", NULL };
static const char text_welcome[] =
    "Subject: Welcome to {{programme}}\n"
    "\n"
    "Hello {{name}},\n"
    "\n"
    "You are in: welcome to **{{programme}}**!\n"
    "\n"
    "Starting on {{start_date}}, you will receive {{things_count}} Things, one at\n"
    "a time. Each Thing is a short, practical activity with a tool or an idea\n"
    "that library and health-information staff use, or could use, in their\n"
    "work.\n"
    "\n"
    "**How it works**\n"
    "\n"
    "1. A Thing arrives by email. Try it when it suits you.\n"
    "2. Write a short post about it on your blog.\n"
    "3. Reply to the Thing's message with the link to your post.\n"
    "\n"
    "**Your blog.** If you do not have one yet, any free blogging platform will\n"
    "do. Once you have it, send its address to {{blog_address}} so that we know\n"
    "where to find your posts.\n"
    "\n"
    "**Questions?** Write to {{help_address}} at any time.\n"
    "\n"
    "Go at your own pace: the Things stay in your mailbox, and you can catch up\n"
    "whenever you like.\n"
    "\n"
    "You receive this because you joined {{programme}}.\n"
    "[Leave the programme]({{unsubscribe_mailto}}) at any time.\n";

static const char *const vars_reflection_ack[] = { "thing_number", "thing_title", "url", "done", "total", NULL };
static const char text_reflection_ack[] =
    "Subject: Thing {{thing_number}} done: thank you!\n"
    "\n"
    "Hello {{name}},\n"
    "\n"
    "Thank you for your post on Thing {{thing_number}}, \"{{thing_title}}\":\n"
    "\n"
    "[{{url}}]({{url}})\n"
    "\n"
    "We have marked it as done. That makes **{{done}} of {{total}}** Things so\n"
    "far: well done!\n"
    "\n"
    "You receive this because you joined {{programme}}.\n"
    "[Leave the programme]({{unsubscribe_mailto}}) at any time.\n";

static const char *const vars_help_ack[] = { "subject", NULL };
static const char text_help_ack[] =
    "Subject: We have your message: {{subject}}\n"
    "\n"
    "Hello {{name}},\n"
    "\n"
    "Thank you for writing. Your message (\"{{subject}}\") has gone to the\n"
    "organisers of {{programme}}, and one of them will answer you personally,\n"
    "usually within a few working days.\n"
    "\n"
    "You receive this because you joined {{programme}}.\n"
    "[Leave the programme]({{unsubscribe_mailto}}) at any time.\n";

static const char *const vars_help_forward[] = { "from", "subject", "body", "thing_number", "ticket", NULL };
static const char text_help_forward[] =
    "Subject: [ticket {{ticket}}] Help request from {{from}}: {{subject}}\n"
    "\n"
    "A participant of {{programme}} has asked for help (ticket {{ticket}}).\n"
    "\n"
    "- From: {{from}}\n"
    "- Subject: {{subject}}\n"
    "- Thing (if they named one): {{thing_number}}\n"
    "\n"
    "Their message:\n"
    "\n"
    "> {{body}}\n"
    "\n"
    "Please reply to them directly (replying to this message does that); they\n"
    "have been told that a person will answer. Copy {{programme_address}} on your\n"
    "answer and the ticket is marked answered; until then you will be reminded\n"
    "of it.\n";

static const char *const vars_unknown_forward[] = { "from", "subject", "body", "thing_number", "reason", NULL };
static const char text_unknown_forward[] =
    "Subject: Message for {{programme}} needs a person: {{subject}}\n"
    "\n"
    "Things could not tell what to do with a message sent to\n"
    "{{programme_address}}, so it is passed on to you.\n"
    "\n"
    "- Why: {{reason}}\n"
    "- From: {{from}}\n"
    "- Subject: {{subject}}\n"
    "- Thing (if any): {{thing_number}}\n"
    "\n"
    "The message:\n"
    "\n"
    "> {{body}}\n"
    "\n"
    "If it needs an answer, please reply to the sender directly.\n";

static const char *const vars_unsubscribe_confirm[] = { "confirm_address", NULL };
static const char text_unsubscribe_confirm[] =
    "Subject: Please confirm: leaving {{programme}}\n"
    "\n"
    "Hello {{name}},\n"
    "\n"
    "We received a request to take {{address}} off **{{programme}}**.\n"
    "\n"
    "**To confirm, reply to this message** (an empty reply will do), or write\n"
    "to {{confirm_address}}. After that you will receive no more Things.\n"
    "\n"
    "If you did not ask for this, ignore this message: you stay in the\n"
    "programme.\n";

static const char *const vars_goodbye[] = { NULL };
static const char text_goodbye[] =
    "Subject: You have left {{programme}}\n"
    "\n"
    "Hello {{name}},\n"
    "\n"
    "You have left **{{programme}}**, and we will not write to you again.\n"
    "\n"
    "Thank you for taking part. Your blog posts are yours and stay where they\n"
    "are. If you would like to come back one day, write to {{help_address}}.\n";

static const char *const vars_blog_ack[] = { "blog_url", "feed_url", NULL };
static const char text_blog_ack[] =
    "Subject: Your blog is registered\n"
    "\n"
    "Hello {{name}},\n"
    "\n"
    "Thank you: we have registered your blog,\n"
    "[{{blog_url}}]({{blog_url}}).\n"
    "\n"
    "{{#feed_url}}\n"
    "We found its feed at [{{feed_url}}]({{feed_url}}). A feed is the list of\n"
    "new posts that feed readers follow, so your new posts can be picked up\n"
    "without you having to tell anyone.\n"
    "{{/feed_url}}\n"
    "{{^feed_url}}\n"
    "We could not find a feed (RSS or Atom) on it. A feed is the list of new\n"
    "posts that feed readers follow; without one, nobody can follow your blog\n"
    "automatically. That is no obstacle to taking part: just keep replying to\n"
    "each Thing with the link to your post. Most blogging platforms publish a\n"
    "feed; if you know where yours is, write to {{help_address}}.\n"
    "{{/feed_url}}\n"
    "\n"
    "You receive this because you joined {{programme}}.\n"
    "[Leave the programme]({{unsubscribe_mailto}}) at any time.\n";

static const char *const vars_suspended[] = { "participant", "participant_address",
	"bounce_score", "bounce_threshold", "bounce_reason", "alt_address", NULL };
static const char text_suspended[] =
    "Subject: {{programme}}: {{participant_address}} suspended after bounces\n"
    "\n"
    "Mail to {{participant}} has bounced too often (score {{bounce_score}},\n"
    "threshold {{bounce_threshold}}), so Things has suspended them: they will\n"
    "get no more Things.\n"
    "\n"
    "The last bounce: {{bounce_reason}}\n"
    "\n"
    "{{#alt_address}}\n"
    "They have been told at their alternate address, {{alt_address}}.\n"
    "{{/alt_address}}\n"
    "{{^alt_address}}\n"
    "They have not been told, as their address does not work and they gave no\n"
    "alternate address.\n"
    "{{/alt_address}}\n"
    "If their address works again, or they give you another one, subscribe them\n"
    "again with `things subscribe ADDRESS`; their score then starts from zero.\n";
static const char *const vars_oversize[] = { "subject", "limit", NULL };
static const char text_oversize[] =
    "Subject: Your message was too large: {{subject}}\n"
    "\n"
    "Hello {{name}},\n"
    "\n"
    "Your message to {{programme}} (\"{{subject}}\") is larger than the\n"
    "{{limit}} we can accept, so nobody has read it yet. The organisers have\n"
    "been told that it arrived.\n"
    "\n"
    "Please send it again without the large attachments: put photos or\n"
    "documents on your blog or another site and send us the link instead.\n"
    "Questions? Write to {{help_address}}.\n";

static const char *const vars_failed_notice[] = { "from", "subject", "body", "thing_number", "reason", "where", NULL };
static const char text_failed_notice[] =
    "Subject: Message for {{programme}} could not be handled: {{subject}}\n"
    "\n"
    "A message sent to {{programme_address}} could not be handled\n"
    "automatically. Nothing was lost: the message is {{where}}.\n"
    "\n"
    "- Why: {{reason}}\n"
    "- From: {{from}}\n"
    "- Subject: {{subject}}\n"
    "- Thing (if any): {{thing_number}}\n"
    "\n"
    "What could be read of it:\n"
    "\n"
    "> {{body}}\n"
    "\n"
    "If it needs an answer, please reply to the sender directly.\n";

static const char *const vars_ticket_reminder[] = { "from", "subject", "body", "thing_number", "ticket", "waiting", NULL };
static const char text_ticket_reminder[] =
    "Subject: [ticket {{ticket}}] Still waiting for an answer: {{subject}}\n"
    "\n"
    "A help request to {{programme}} has been waiting for {{waiting}}, and\n"
    "Things has not seen an answer (ticket {{ticket}}).\n"
    "\n"
    "- From: {{from}}\n"
    "- Subject: {{subject}}\n"
    "- Thing (if they named one): {{thing_number}}\n"
    "\n"
    "Their message:\n"
    "\n"
    "> {{body}}\n"
    "\n"
    "Please reply to them directly (replying to this message does that) and copy\n"
    "{{programme_address}}. If it has been dealt with some other way, close the\n"
    "ticket with the command \"things tickets close {{ticket}}\", or mail the\n"
    "command \"close {{ticket}}\" with the organisers' secret.\n";

static const char *const vars_command_answer[] = { "subject", "result", NULL };
static const char text_command_answer[] =
    "Subject: Re: {{subject}}\n"
    "\n"
    "Hello {{name}},\n"
    "\n"
    "Here is what your commands to {{programme}} did:\n"
    "\n"
    "{{result}}\n";

static const char *const vars_late_notice[] = { "thing_number", "thing_title", "held",
	"late_hours", "release_command", "status_command", "skip_command", "reminder",
	"held_days", NULL };
static const char text_late_notice[] =
    "Subject: Thing {{thing_number}} is {{#reminder}}still {{/reminder}}held: it was due "
    "over {{late_hours}} hours ago\n"
    "\n"
    "{{#reminder}}\n"
    "A reminder: Thing {{thing_number}}, \"{{thing_title}}\", has been held for\n"
    "{{held_days}} now, and those participants' programme is stopped there until\n"
    "you release or skip it. Things reminds you once a week while it lasts.\n"
    "\n"
    "{{/reminder}}\n"
    "Things has not sent Thing {{thing_number}}, \"{{thing_title}}\": it came due\n"
    "more than {{late_hours}} hours before Things could send it. Usually this\n"
    "means that `things run` did not run for a while (the machine, cron or the\n"
    "mail server was down).\n"
    "\n"
    "Rather than send it late without a word, Things holds it until you decide.\n"
    "Participants waiting for it now: {{held}}. Nobody gets a Thing before the\n"
    "one before it, so the Things after it wait behind it too, for them: left\n"
    "held, it stops their programme there.\n"
    "\n"
    "To send it to them, run the command below: the next run sends it, and\n"
    "the Things that waited behind it follow in order, paced as for a late\n"
    "joiner (one every catch_up_days days):\n"
    "\n"
    "{{release_command}}\n"
    "\n"
    "If you would rather not send it, skip it: it is never sent (it counts as\n"
    "failed, \"skipped by an organiser\"), and the Things after it follow from\n"
    "the next run, one every catch_up_days days:\n"
    "\n"
    "{{skip_command}}\n"
    "\n"
    "To see what is held, queued and sent:\n"
    "\n"
    "{{status_command}}\n"
    "\n"
    "To send late Things without asking, set `send_late = yes` in things.conf.\n";

static const char *const vars_digest[] = { "digest_body", "week", NULL };
static const char text_digest[] =
    "Subject: {{programme}}: what participants wrote, week {{week}}\n"
    "\n"
    "Hello {{name}},\n"
    "\n"
    "Here is what fellow participants of {{programme}} have been writing about\n"
    "this week.\n"
    "\n"
    "{{digest_body}}\n"
    "\n"
    "Reading each other's posts is part of the programme: leave a comment where\n"
    "something strikes you.\n"
    "\n"
    "You receive this because you joined {{programme}}.\n"
    "[Leave the programme]({{unsubscribe_mailto}}) at any time.\n";

static const char *const vars_feed_broken[] = { "blog_url", "blog_address", "feed_url", "error", "failures",
	"last_ok", "problem_gone", "problem_private", "problem_missing", "problem_web_page",
	"problem_not_a_feed", "problem_unreachable", "problem_other", "problem_blocked", NULL };
static const char text_feed_broken[] =
    "Subject: Your blog's feed has stopped working\n"
    "\n"
    "Hello {{name}},\n"
    "\n"
    "{{programme}} reads your blog, [{{blog_url}}]({{blog_url}}), through its\n"
    "feed, so that your posts appear in the weekly digest the other participants\n"
    "receive. Lately we have not been able to read it: {{failures}} attempts in a\n"
    "row failed{{#last_ok}} (the last one that worked was on {{last_ok}}){{/last_ok}}.\n"
    "\n"
    "{{#problem_gone}}\n"
    "**The feed has been deleted.** The blog's server says the feed at\n"
    "{{feed_url}} is gone for good, so we will stop asking for it. If you\n"
    "moved or closed your blog, send the address of your new one to\n"
    "{{blog_address}}.\n"
    "{{/problem_gone}}\n"
    "{{#problem_private}}\n"
    "**Your blog seems to have gone private.** Its server asks for a login\n"
    "before showing the feed. If you meant to make it private, that is fine:\n"
    "keep replying to each Thing with a link to your post. If not, look for a\n"
    "setting such as \"visibility\" or \"privacy\" in your blog's dashboard and\n"
    "make the blog public again. If you now write somewhere else, send the new\n"
    "blog's address to {{blog_address}}.\n"
    "{{/problem_private}}\n"
    "{{#problem_missing}}\n"
    "**The feed is no longer where it was.** Its address ({{feed_url}}) now\n"
    "answers \"not found\". This often happens when a blog moves to a new\n"
    "address or platform: send the address of your blog as it is now to\n"
    "{{blog_address}} and we will find its feed again.\n"
    "{{/problem_missing}}\n"
    "{{#problem_web_page}}\n"
    "**We get a web page instead of a feed.** The address we have\n"
    "({{feed_url}}) shows an ordinary page, and that page does not say where\n"
    "its feed is. Some platforms switch the feed off in their settings (look\n"
    "for \"RSS\", \"feed\" or \"syndication\" and turn it on); a theme change can\n"
    "also remove it. Once it is back, or if you know your feed's address, send\n"
    "it to {{blog_address}}.\n"
    "{{/problem_web_page}}\n"
    "{{#problem_not_a_feed}}\n"
    "**The feed is broken.** What the address {{feed_url}} returns is not a\n"
    "feed we can read (RSS or Atom). A plugin or theme may be writing\n"
    "something into it; your platform's help pages or a feed validator\n"
    "such as validator.w3.org/feed can tell you what is wrong.\n"
    "{{/problem_not_a_feed}}\n"
    "{{#problem_unreachable}}\n"
    "**We could not reach your blog.** This may be temporary (the server\n"
    "was down or slow), or the blog may only be visible inside your\n"
    "organisation's network. Check that you can open it from a phone that is\n"
    "not on your work network; if the blog has moved, send its new address to\n"
    "{{blog_address}}.\n"
    "{{/problem_unreachable}}\n"
    "{{#problem_blocked}}\n"
    "**Your blog's host turns feed readers away.** A firewall in front of the\n"
    "blog (a \"bot check\" such as Cloudflare's \"Just a moment...\" page)\n"
    "answers instead of the feed, because we are a program and not a browser.\n"
    "Your readers' feed apps are turned away too. If you run the site, allow\n"
    "feed readers through (in Cloudflare: a rule that skips the challenge for\n"
    "your feed's address, or Bot Fight Mode off); if your platform or IT\n"
    "department runs it, forward them this message.\n"
    "{{/problem_blocked}}\n"
    "{{#problem_other}}\n"
    "**Something is wrong with the feed's address.** Check that your blog\n"
    "opens at the address above; if it has moved, send its new address to\n"
    "{{blog_address}}.\n"
    "{{/problem_other}}\n"
    "\n"
    "What we saw, in technical terms: {{error}}\n"
    "\n"
    "{{^problem_gone}}\n"
    "We will keep trying, and will not write about this again unless the feed\n"
    "works for a while and then breaks once more.\n"
    "{{/problem_gone}}\n"
    "Nothing is lost: your reflections count whether or not we can read the\n"
    "feed. Questions? Write to {{help_address}}.\n"
    "\n"
    "You receive this because you joined {{programme}}.\n"
    "[Leave the programme]({{unsubscribe_mailto}}) at any time.\n";

static const char *const vars_alt_confirm[] = { "participant_address", "confirm_address", NULL };
static const char text_alt_confirm[] =
    "Subject: Please confirm: an alternate address for {{programme}}\n"
    "\n"
    "Hello {{name}},\n"
    "\n"
    "The participant of **{{programme}}** at {{participant_address}} asked us to\n"
    "keep {{address}} as their alternate address: we would write to it only if\n"
    "mail to {{participant_address}} stops working.\n"
    "\n"
    "**To confirm, reply to this message** from {{address}} (an empty reply\n"
    "will do), or write to {{confirm_address}}.\n"
    "\n"
    "If it wasn't you, ignore this message: nothing will happen, and you will\n"
    "not hear from us again.\n";

static const char *const vars_alt_ack[] = { "participant_address", "alt_address", "alt_requested",
	"alt_confirmed", "alt_cleared", NULL };
static const char text_alt_ack[] =
    "Subject: Your alternate address for {{programme}}\n"
    "\n"
    "Hello {{name}},\n"
    "\n"
    "{{#alt_requested}}\n"
    "You asked us to keep {{alt_address}} as your alternate address. We have\n"
    "sent a message there: it takes effect once it is confirmed by a reply\n"
    "from that address.\n"
    "{{/alt_requested}}\n"
    "{{#alt_confirmed}}\n"
    "{{alt_address}} is now your alternate address: if mail to\n"
    "{{participant_address}} stops working, we will tell you there.\n"
    "{{/alt_confirmed}}\n"
    "{{#alt_cleared}}\n"
    "You have no alternate address any more: we write only to\n"
    "{{participant_address}}.\n"
    "{{/alt_cleared}}\n"
    "\n"
    "If you did not ask for this, write to {{help_address}}.\n"
    "\n"
    "You receive this because you joined {{programme}}.\n"
    "[Leave the programme]({{unsubscribe_mailto}}) at any time.\n";

static const char *const vars_suspended_alt[] = { "participant", "participant_address",
	"bounce_score", "bounce_threshold", "bounce_reason", "subscribe_address", NULL };
static const char text_suspended_alt[] =
    "Subject: {{programme}}: mail to {{participant_address}} does not arrive\n"
    "\n"
    "Hello {{name}},\n"
    "\n"
    "You gave us this address as an alternate to {{participant_address}}.\n"
    "Mail to {{participant_address}} has bounced too often, so we have stopped\n"
    "sending you Things there. The last bounce said:\n"
    "\n"
    "> {{bounce_reason}}\n"
    "\n"
    "Nothing is lost: your reflections and progress are kept.\n"
    "\n"
    "**To come back**, once {{participant_address}} works again, send a message\n"
    "from it to {{subscribe_address}} and reply to the confirmation. To take\n"
    "part from another address, write to the organisers at {{help_address}}.\n"
    "\n"
    "This is the only message we send here about it.\n";

static const char *const vars_certificate[] = { "things_count", "done",
	"certificate_number", "completed_date", NULL };
static const char text_certificate[] =
    "Subject: Congratulations: you have completed {{programme}}\n"
    "\n"
    "Hello {{name}},\n"
    "\n"
    "Congratulations! You have completed **{{done}} of the {{things_count}}\n"
    "Things** of {{programme}}.\n"
    "\n"
    "> **Certificate of completion no. {{certificate_number}}**\n"
    ">\n"
    "> {{name}} ({{address}}) completed {{programme}}, writing a reflection\n"
    "> on each of its {{done}} Things, on {{completed_date}}.\n"
    "\n"
    "This message is your record of completion: keep it, forward it to your\n"
    "manager, or add it to your professional development portfolio.\n"
    "\n"
    "Thank you for trying new things, for writing about them, and for sharing\n"
    "what you learnt with your colleagues.\n"
    "\n"
    "You receive this because you joined {{programme}}.\n"
    "[Leave the programme]({{unsubscribe_mailto}}) at any time.\n";

static const char *const vars_thing_file[] = { "thing_number", "thing_title",
	"reflection_address", NULL };
const struct template_kind template_thing_file = { "Thing", NULL, vars_thing_file };

const struct template_kind template_kinds[] = {
	{ DK_THING, text_thing, vars_thing },
	{ DK_CONFIRM, text_confirm, vars_confirm },
	{ DK_WELCOME, text_welcome, vars_welcome },
	{ DK_REFLECTION_ACK, text_reflection_ack, vars_reflection_ack },
	{ DK_HELP_ACK, text_help_ack, vars_help_ack },
	{ DK_HELP_FORWARD, text_help_forward, vars_help_forward },
	{ DK_UNKNOWN_FORWARD, text_unknown_forward, vars_unknown_forward },
	{ DK_UNSUB_CONFIRM, text_unsubscribe_confirm, vars_unsubscribe_confirm },
	{ DK_GOODBYE, text_goodbye, vars_goodbye },
	{ DK_BLOG_ACK, text_blog_ack, vars_blog_ack },
	{ DK_SUSPENDED, text_suspended, vars_suspended },
	{ DK_OVERSIZE, text_oversize, vars_oversize },
	{ DK_FAILED_NOTICE, text_failed_notice, vars_failed_notice },
	{ DK_TICKET_REMINDER, text_ticket_reminder, vars_ticket_reminder },
	{ DK_COMMAND_ANSWER, text_command_answer, vars_command_answer },
	{ DK_HELD_NOTICE, text_late_notice, vars_late_notice },
	{ DK_DIGEST, text_digest, vars_digest },
	{ DK_FEED_BROKEN, text_feed_broken, vars_feed_broken },
	{ DK_ALT_CONFIRM, text_alt_confirm, vars_alt_confirm },
	{ DK_ALT_ACK, text_alt_ack, vars_alt_ack },
	{ DK_SUSPENDED_ALT, text_suspended_alt, vars_suspended_alt },
	{ DK_CERTIFICATE, text_certificate, vars_certificate },
};
const size_t template_nkinds = sizeof(template_kinds) / sizeof(template_kinds[0]);

const struct template_kind *
template_kind_find(const char *name)
{
	for (size_t i = 0; i < template_nkinds; i++)
		if (strcmp(template_kinds[i].name, name) == 0)
			return &template_kinds[i];
	return NULL;
}

static int
in_list(const char *const *list, const char *name, size_t len)
{
	for (; *list; list++)
		if (strlen(*list) == len && memcmp(*list, name, len) == 0)
			return 1;
	return 0;
}

int
template_kind_has_var(const struct template_kind *k, const char *name, size_t len)
{
	return in_list(template_common_vars, name, len) || in_list(k->vars, name, len);
}
